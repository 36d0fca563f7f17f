#!/usr/bin/env bash
# Builds the demo images locally (no registry is reachable): orchestrator/http-server, also tagged
# katacoda/docker-http-server:latest so the seed's commands and manifests run unchanged offline; and the
# Guestbook's orchestrator/redis, orchestrator/redis-replica and orchestrator/guestbook, tagged with the names the
# upstream guestbook manifests use; orchestrator/pause:1, the pod sandbox image every pod's network namespace lives in;
# and busybox:latest / busybox:1.36 (build_busybox).
# Skips an image whose source has not changed since it was built.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib/common.sh"

# Every image and tag this script makes, asked of Docker in one call at the start (issue 19: deploy/up.sh runs this
# beside the cluster's start-up, where a dozen docker CLI calls cost about a second of CPU on a warm machine): the label
# io.orchestrator.source-hash and the image id of each name there, read by image_up_to_date and tag_image.
declare -A image_hashes=() image_ids=()
load_images() {
  local id hash tags tag
  while read -r id hash tags; do
    for tag in ${tags//,/ }; do image_ids[$tag]=$id image_hashes[$tag]=$hash; done
  done < <(docker image inspect -f '{{ .Id }} {{ index .Config.Labels "io.orchestrator.source-hash" }} {{ range .RepoTags }}{{ . }},{{ end }}' \
    orchestrator/http-server:latest katacoda/docker-http-server:latest busybox:latest busybox:1.36 \
    orchestrator/redis:latest k8s.gcr.io/redis:e2e orchestrator/redis-replica:latest gcr.io/google_samples/gb-redisslave:v1 \
    orchestrator/guestbook:latest gcr.io/google-samples/gb-frontend:v4 orchestrator/pause:1 orchestrator/incluster-client:1 \
    2>/dev/null || true) # (a name not there yet is left out, the others still printed)
}

image_up_to_date() { # image hash
  [ -n "$2" ] && [ "${image_hashes[$1]:-}" = "$2" ]
}

tag_image() { # image tag: tags it unless the tag already names that image (as it was when load_images asked)
  [ -n "${image_ids[$1]:-}" ] && [ "${image_ids[$2]:-}" = "${image_ids[$1]}" ] && return 0
  docker tag "$1" "$2"
}

built() { # image: made just now, so what load_images read of it and its tags no longer holds
  image_ids[$1]=""
}

build_http_server() {
  local src="$here/http-server/http-server.c"
  local hash; hash=$(sha256sum "$src" | cut -c1-16)
  if image_up_to_date orchestrator/http-server:latest "$hash"; then
    tag_image orchestrator/http-server:latest katacoda/docker-http-server:latest
    say "image orchestrator/http-server:latest is up to date"
    return
  fi
  ensure_packages gcc libc6-dev
  local root; root=$(mktemp -d)
  trap 'rm -rf "$root"' RETURN
  gcc -static -O2 -Wall -o "$root/http-server" "$src"
  mkdir -p "$root/etc" "$root/tmp"
  echo "root:x:0:0:root:/:/http-server" > "$root/etc/passwd"
  tar -C "$root" -c . | docker import \
    --change 'CMD ["/http-server"]' \
    --change 'EXPOSE 80' \
    --change "LABEL io.orchestrator.source-hash=$hash" \
    --change 'LABEL org.opencontainers.image.description="Local stand-in for katacoda/docker-http-server"' \
    - orchestrator/http-server:latest >/dev/null
  built orchestrator/http-server:latest
  tag_image orchestrator/http-server:latest katacoda/docker-http-server:latest
  say "built image orchestrator/http-server:latest (tagged katacoda/docker-http-server:latest)"
}

# Copies an executable of the host and the shared libraries ldd names for it into a root file system.
copy_with_libs() {
  local root=$1 binary=$2 dest=${3:-$2}
  mkdir -p "$root$(dirname "$dest")"
  cp -L "$binary" "$root$dest"
  ldd "$binary" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

# The files glibc's resolver and getent need, a shell (busybox) and getent for `getent hosts` from inside pods.
base_rootfs() {
  local root=$1
  mkdir -p "$root/etc" "$root/tmp" "$root/data" "$root/bin"
  echo "root:x:0:0:root:/:/bin/sh" > "$root/etc/passwd"
  echo "root:x:0:" > "$root/etc/group"
  echo "hosts: files dns" > "$root/etc/nsswitch.conf"
  cp /bin/busybox "$root/bin/busybox"
  for applet in sh env cat ls ps sleep hostname nslookup wget; do ln -sf busybox "$root/bin/$applet"; done
  copy_with_libs "$root" /usr/bin/getent
  # glibc loads the NSS modules named in nsswitch.conf at run time; ldd does not list them
  for lib in /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libnss_dns.so.2 /lib/x86_64-linux-gnu/libresolv.so.2; do
    [ -e "$lib" ] && { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
  done
  chmod 1777 "$root/tmp"
}

image_hash() { cat "$@" | sha256sum | cut -c1-16; }


# redis-server from Debian's redis-tools package (downloaded, unpacked, never installed on the host), with the
# libraries it links against installed on the host so ldd can find them.
redis_binary() {
  local cache="$ORCH_STATE_DIR/image-cache/redis"
  if [ ! -x "$cache/usr/bin/redis-check-rdb" ]; then
    ensure_packages libjemalloc2 liblzf1 libssl3 libsystemd0 libatomic1 >&2
    mkdir -p "$cache"
    # A fresh machine may have no package lists yet: refresh them once if the first try finds nothing.
    (cd "$cache" && { apt-get download -q redis-tools >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get download -q redis-tools >/dev/null 2>&1; }; }) \
      || die "apt-get download redis-tools failed"
    dpkg -x "$cache"/redis-tools_*.deb "$cache"
  fi
  echo "$cache/usr/bin/redis-check-rdb"
}

build_redis_image() { # name entrypoint-script tags...
  local name=$1 script=$2; shift 2
  local hash; hash=$(image_hash "$script" "${BASH_SOURCE[0]}")
  if ! image_up_to_date "$name:latest" "$hash"; then
    ensure_packages busybox-static libc-bin
    local binary; binary=$(redis_binary)
    local root; root=$(mktemp -d)
    copy_with_libs "$root" "$binary" /usr/bin/redis-server
    base_rootfs "$root"
    cp "$script" "$root/entrypoint.sh"
    chmod +x "$root/entrypoint.sh"
    tar -C "$root" -c . | docker import \
      --change 'ENTRYPOINT ["/entrypoint.sh"]' \
      --change 'WORKDIR /data' \
      --change 'EXPOSE 6379' \
      --change 'ENV PATH=/usr/bin:/bin' \
      --change "LABEL io.orchestrator.source-hash=$hash" \
      - "$name:latest" >/dev/null
    built "$name:latest"
    rm -rf "$root"
    say "built image $name:latest"
  else
    say "image $name:latest is up to date"
  fi
  for tag in "$@"; do tag_image "$name:latest" "$tag"; done
}

build_guestbook() {
  local src="$here/guestbook/guestbook.c"
  local hash; hash=$(image_hash "$src" "${BASH_SOURCE[0]}")
  if ! image_up_to_date orchestrator/guestbook:latest "$hash"; then
    ensure_packages gcc libc6-dev busybox-static libc-bin
    local root; root=$(mktemp -d)
    gcc -O2 -Wall -o "$root/guestbook.bin" "$src"
    copy_with_libs "$root" "$root/guestbook.bin" /guestbook
    rm "$root/guestbook.bin"
    base_rootfs "$root"
    tar -C "$root" -c . | docker import \
      --change 'CMD ["/guestbook"]' \
      --change 'EXPOSE 80' \
      --change 'ENV PATH=/usr/bin:/bin' \
      --change "LABEL io.orchestrator.source-hash=$hash" \
      --change 'LABEL org.opencontainers.image.description="Local stand-in for gcr.io/google-samples/gb-frontend:v4"' \
      - orchestrator/guestbook:latest >/dev/null
    built orchestrator/guestbook:latest
    rm -rf "$root"
    say "built image orchestrator/guestbook:latest"
  else
    say "image orchestrator/guestbook:latest is up to date"
  fi
  tag_image orchestrator/guestbook:latest gcr.io/google-samples/gb-frontend:v4
}

# The pod sandbox: a static binary that waits for SIGTERM, alone in its image (the kubelet's pause image).
build_pause() {
  local src="$here/pause/pause.c" image=orchestrator/pause:1
  local hash; hash=$(image_hash "$src" "${BASH_SOURCE[0]}")
  if image_up_to_date "$image" "$hash"; then
    say "image $image is up to date"
    return
  fi
  ensure_packages gcc libc6-dev
  local root; root=$(mktemp -d)
  gcc -static -O2 -Wall -o "$root/pause" "$src"
  strip "$root/pause" 2>/dev/null || true
  tar -C "$root" -c pause | docker import \
    --change 'ENTRYPOINT ["/pause"]' \
    --change "LABEL io.orchestrator.source-hash=$hash" \
    --change 'LABEL org.opencontainers.image.description="Pod sandbox: holds the network namespace of a pod"' \
    - "$image" >/dev/null
  rm -rf "$root"
  say "built image $image"
}

# busybox:latest and busybox:1.36 (the tutorials' debugging image): Debian's busybox-static with every applet linked.
# Its glibc (2.36, static) has the files and dns lookups built in, so names resolve with nsswitch.conf alone (checked:
# wget and ping of a service name in a pod). Its wget crashes on -T (a bug in that build's option table; its sh runs the
# applet itself, so no wrapper can step in): use `timeout 5 wget …` instead.
build_busybox() {
  local image=busybox:latest
  ensure_packages busybox-static
  local hash; hash=$( { sha256sum /bin/busybox; sed -n '/^build_busybox()/,/^}/p' "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
  if ! image_up_to_date "$image" "$hash"; then
    local root; root=$(mktemp -d)
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/home"
    cp /bin/busybox "$root/bin/busybox"
    local applet
    for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"; done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
    echo "hosts: files dns" > "$root/etc/nsswitch.conf"
    chmod 1777 "$root/tmp"
    local version; version=$(/bin/busybox | head -n 1 | grep -o 'v[0-9.]*' | head -n 1)
    tar -C "$root" -c . | docker import \
      --change 'CMD ["sh"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change "LABEL io.orchestrator.source-hash=$hash" \
      --change "LABEL org.opencontainers.image.description=\"Local stand-in for busybox: Debian's busybox-static $version\"" \
      - "$image" >/dev/null
    rm -rf "$root"
    say "built image $image (BusyBox $version, tagged busybox:1.36)"
  else
    say "image $image is up to date"
  fi
  docker tag "$image" busybox:1.36
}

# build_busybox's fast path, outside it (its text is part of the image's hash): an image made from the /bin/busybox there
# now, tagged busybox:1.36 too, needs neither the package check (dpkg, 0.1-0.3 s on a loaded machine) nor a docker call.
busybox_up_to_date() {
  [ -x /bin/busybox ] || return 1
  local hash; hash=$( { sha256sum /bin/busybox; sed -n '/^build_busybox()/,/^}/p' "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
  image_up_to_date busybox:latest "$hash" && [ "${image_ids[busybox:1.36]:-}" = "${image_ids[busybox:latest]}" ] || return 1
  say "image busybox:latest is up to date"
}

# orchestrator/incluster-client:1: a small program with the KubernetesClient library's InClusterConfig that lists its
# namespace's pods with the pod's ServiceAccount token (the E2E tests of projected tokens). Published self-contained,
# so the image holds nothing but the program and the few files it needs.
build_incluster_client() {
  local src="$here/incluster-client"
  local hash; hash=$(cat "$src/Program.cs" "$src/incluster-client.csproj" | sha256sum | cut -c1-16)
  if image_up_to_date orchestrator/incluster-client:1 "$hash"; then
    say "image orchestrator/incluster-client:1 is up to date"
    return
  fi
  local root; root=$(mktemp -d)
  trap 'rm -rf "$root"' RETURN
  dotnet publish "$src/incluster-client.csproj" -c Release -r linux-x64 --self-contained -nologo -v quiet -o "$root/app" >/dev/null
  base_rootfs "$root"
  for lib in $(for f in "$root/app/incluster-client" "$root/app"/*.so; do ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true; done | sort -u); do
    mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"
  done
  # OpenSSL is loaded at run time (dlopen), not linked: ldd does not list it
  for lib in /usr/lib/x86_64-linux-gnu/libssl.so.3 /usr/lib/x86_64-linux-gnu/libcrypto.so.3 /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /lib/x86_64-linux-gnu/libgcc_s.so.1; do
    [ -e "$lib" ] && { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
  done
  tar -C "$root" -c . | docker import \
    --change 'ENTRYPOINT ["/app/incluster-client"]' \
    --change 'ENV DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1' \
    --change "LABEL io.orchestrator.source-hash=$hash" \
    - orchestrator/incluster-client:1 >/dev/null
  say "built image orchestrator/incluster-client:1"
}

ensure_docker
load_images
build_http_server
busybox_up_to_date || build_busybox
build_redis_image orchestrator/redis "$here/redis/redis-entrypoint.sh" k8s.gcr.io/redis:e2e
build_redis_image orchestrator/redis-replica "$here/redis/replica-entrypoint.sh" gcr.io/google_samples/gb-redisslave:v1
build_guestbook
build_pause
build_incluster_client
