#!/usr/bin/env bash
# Builds the demo images locally (no registry is reachable): orchestrator/http-server, also tagged
# katacoda/docker-http-server:latest so the seed's commands and manifests run unchanged offline; and the
# Guestbook's orchestrator/redis, orchestrator/redis-replica and orchestrator/guestbook, tagged with the names the
# upstream guestbook manifests use; orchestrator/pause:1, the pod sandbox image every pod's network namespace lives in;
# and busybox:latest / :1.36 / :1.28 (build_busybox), BusyBox built from source; the other images' shells are that BusyBox.
# Skips an image whose source has not changed since it was built.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib/common.sh"

# Every image and tag this script makes, asked of Docker in one call at the start (issue 19: deploy/up.sh runs this
# beside the cluster's start-up, where a dozen docker CLI calls cost about a second of CPU on a warm machine): the label
# io.orchestrator.source-hash and the image id of each name there, read by image_up_to_date and tag_image.
# the other tags of busybox:latest
busybox_tags="busybox:1.36 busybox:1.28"

declare -A image_hashes=() image_ids=()
load_images() {
  local id hash tags tag
  while read -r id hash tags; do
    for tag in ${tags//,/ }; do image_ids[$tag]=$id image_hashes[$tag]=$hash; done
  done < <(docker image inspect -f '{{ .Id }} {{ index .Config.Labels "io.orchestrator.source-hash" }} {{ range .RepoTags }}{{ . }},{{ end }}' \
    orchestrator/http-server:latest katacoda/docker-http-server:latest busybox:latest $busybox_tags \
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
  local hash; hash=$( { cat "$src"; rootfs_recipe; } | sha256sum | cut -c1-16)
  if image_up_to_date orchestrator/http-server:latest "$hash"; then
    tag_image orchestrator/http-server:latest katacoda/docker-http-server:latest
    say "image orchestrator/http-server:latest is up to date"
    return
  fi
  ensure_packages gcc libc6-dev libc-bin
  local root; root=$(mktemp -d)
  trap 'rm -rf "$root"' RETURN
  gcc -static -O2 -Wall -o "$root/http-server" "$src"
  # a shell, hostname, wget… beside the server, for `kubectl exec POD -- hostname` and the dashboard's terminal
  base_rootfs "$root"
  tar -C "$root" -c . | docker import \
    --change 'CMD ["/http-server"]' \
    --change 'EXPOSE 80' \
    --change 'ENV PATH=/usr/bin:/bin' \
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

# The files glibc's resolver and getent need, a shell and a few tools (the BusyBox of busybox_binary) and getent for
# `getent hosts` from inside pods.
base_rootfs() {
  local root=$1
  local busybox; busybox=$(busybox_binary)
  mkdir -p "$root/etc" "$root/tmp" "$root/data" "$root/bin"
  echo "root:x:0:0:root:/:/bin/sh" > "$root/etc/passwd"
  echo "root:x:0:" > "$root/etc/group"
  echo "hosts: files dns" > "$root/etc/nsswitch.conf"
  cp "$busybox" "$root/bin/busybox"
  for applet in sh env cat ls ps sleep hostname nslookup wget nc; do ln -sf busybox "$root/bin/$applet"; done
  copy_with_libs "$root" /usr/bin/getent
  # glibc loads the NSS modules named in nsswitch.conf at run time; ldd does not list them
  for lib in /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libnss_dns.so.2 /lib/x86_64-linux-gnu/libresolv.so.2; do
    [ -e "$lib" ] && { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
  done
  chmod 1777 "$root/tmp"
}

# What base_rootfs puts in an image, as text for the images' source hashes: the functions that make it.
rootfs_recipe() { function_text base_rootfs copy_with_libs busybox_binary; }

function_text() { # name...: the text of these functions of this script
  local name
  for name in "$@"; do sed -n "/^$name() {/,/^}/p" "${BASH_SOURCE[0]}"; done
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
    ensure_packages libc-bin
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
    ensure_packages gcc libc6-dev libc-bin
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

# BusyBox 1.37.0, the release of Docker Hub's busybox:latest, built as that image's glibc variant is (defconfig; ar,
# inotifyd, no fancy sync, no wide characters past ASCII), but static, from Debian's copy of the upstream tarball
# (checked against upstream's sha256). Debian's busybox-static is not used: its wget has no -T/--timeout (it crashes or
# refuses them), which the Kubernetes docs' `wget --spider --timeout=1 nginx` needs. Static glibc 2.34+ has the files and
# dns name services built in: names resolve with /etc/nsswitch.conf alone, no libnss_*.so (checked with strace).
# Built once per machine (2-3.5 min of CPU) and kept under image-cache/busybox-<hash of this function>; prints its path.
busybox_binary() {
  local version=1.37.0 sha256=3311dff32e746499f4df0d5df04d7eb396382d7e108bb9250e7b519b837043a4
  local url="http://deb.debian.org/debian/pool/main/b/busybox/busybox_$version.orig.tar.bz2"
  local cache; cache="$ORCH_STATE_DIR/image-cache/busybox-$(function_text busybox_binary | sha256sum | cut -c1-16)"
  if [ -x "$cache/busybox" ]; then echo "$cache/busybox"; return; fi
  ensure_packages gcc libc6-dev make bzip2 curl >&2
  local log="$ORCH_STATE_DIR/image-cache/busybox-build.log"
  mkdir -p "$ORCH_STATE_DIR/image-cache"
  step "building BusyBox $version from source, once (log: $log)" >&2
  (
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    curl -fsS --retry 2 --connect-timeout 20 -m 600 -o "$work/busybox.tar.bz2" "$url" 2>"$log" \
      || die "could not download BusyBox's source ($url): $(tail -n 1 "$log")"
    echo "$sha256  $work/busybox.tar.bz2" | sha256sum -c --status - || die "BusyBox's source from $url does not have sha256 $sha256"
    tar -xjf "$work/busybox.tar.bz2" -C "$work"
    cd "$work/busybox-$version"
    # the build date in `busybox --help` is the release's, as upstream's image prints it
    export SOURCE_DATE_EPOCH; SOURCE_DATE_EPOCH=$(stat -c %Y .)
    set_confs="CONFIG_STATIC=y CONFIG_AR=y CONFIG_FEATURE_AR_CREATE=y CONFIG_FEATURE_AR_LONG_FILENAMES=y CONFIG_LAST_SUPPORTED_WCHAR=0 CONFIG_INOTIFYD=y"
    unset_confs="CONFIG_FEATURE_SYNC_FANCY"
    # tc reads CBQ's definitions, which Linux 6.8's headers dropped: without them, no tc rather than no BusyBox
    grep -q TCA_CBQ_MAX /usr/include/linux/pkt_sched.h 2>/dev/null || unset_confs="$unset_confs CONFIG_TC"
    (
      make defconfig || exit 1
      for conf in $unset_confs; do sed -i "s/^$conf=.*/# $conf is not set/" .config; done
      for conf in $set_confs; do
        sed -i -e "s/^${conf%=*}=.*/$conf/" -e "s/^# ${conf%=*} is not set/$conf/" .config
        grep -q "^$conf\$" .config || echo "$conf" >> .config
      done
      make oldconfig </dev/null || exit 1
      for conf in $set_confs; do grep -q "^$conf\$" .config || { echo "config: $conf did not hold"; exit 1; }; done
      for conf in $unset_confs; do ! grep -q "^$conf=" .config || { echo "config: $conf is still set"; exit 1; }; done
      make -j"$(nproc)" busybox || exit 1
      # (Debian's busybox-static answers this with "unrecognized option"; wget's own status is 1 either way)
      answer=$(./busybox wget -Y off --spider --timeout=1 http://127.0.0.1:1/ 2>&1 || true)
      [[ "$answer" == *"can't connect"* ]] || { echo "the built wget does not take --spider --timeout: $answer"; exit 1; }
    ) >>"$log" 2>&1 || die "building BusyBox $version failed (log: $log)"
    mkdir -p "$cache"
    cp busybox "$cache/busybox.new" && mv "$cache/busybox.new" "$cache/busybox"
    # builds of older recipes are not used again
    find "$ORCH_STATE_DIR/image-cache" -maxdepth 1 -name 'busybox-*' -type d ! -path "$cache" -exec rm -rf {} +
  ) || exit 1
  echo "$cache/busybox"
}

# busybox:latest, :1.36 and :1.28 (the tutorials' debugging image; the docs' examples name busybox:1.28 most):
# busybox_binary with every applet linked in /bin, as in Docker Hub's image (its 1.37.0 is the current busybox:latest;
# no source of the older releases is reachable, so the other tags name it too).
build_busybox() {
  local image=busybox:latest
  local hash; hash=$(busybox_image_hash)
  if ! image_up_to_date "$image" "$hash"; then
    local busybox; busybox=$(busybox_binary)
    local root; root=$(mktemp -d)
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/home" "$root/usr/bin" "$root/var/www"
    cp "$busybox" "$root/bin/busybox"
    local applet
    for applet in $("$busybox" --list); do [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"; done
    ln -s ../../bin/env "$root/usr/bin/env"
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'daemon:x:1:1:daemon:/usr/sbin:/bin/false' 'bin:x:2:2:bin:/bin:/bin/false' \
      'sys:x:3:3:sys:/dev:/bin/false' 'sync:x:4:100:sync:/bin:/bin/sync' 'mail:x:8:8:mail:/var/spool/mail:/bin/false' \
      'www-data:x:33:33:www-data:/var/www:/bin/false' 'operator:x:37:37:Operator:/var:/bin/false' \
      'nobody:x:65534:65534:nobody:/home:/bin/false' > "$root/etc/passwd"
    printf '%s\n' 'root:x:0:' 'daemon:x:1:' 'bin:x:2:' 'sys:x:3:' 'adm:x:4:' 'tty:x:5:' 'disk:x:6:' 'lp:x:7:' 'mail:x:8:' \
      'kmem:x:9:' 'wheel:x:10:root' 'cdrom:x:11:' 'dialout:x:18:' 'floppy:x:19:' 'video:x:28:' 'audio:x:29:' 'tape:x:32:' \
      'www-data:x:33:' 'operator:x:37:' 'utmp:x:43:' 'plugdev:x:46:' 'staff:x:50:' 'lock:x:54:' 'netdev:x:82:' 'users:x:100:' \
      'nogroup:x:65534:' > "$root/etc/group"
    printf '%s\n' 'passwd: files' 'group: files' 'shadow: files' 'hosts: files dns' 'networks: files' 'protocols: files' \
      'services: files' > "$root/etc/nsswitch.conf"
    chmod 1777 "$root/tmp"
    chmod 700 "$root/root"
    # (no pipe into head: busybox killed by SIGPIPE would fail the assignment under pipefail)
    local banner version=""; banner=$("$busybox" 2>&1 || true)
    [[ "$banner" =~ v[0-9.]+ ]] && version=${BASH_REMATCH[0]}
    tar -C "$root" -c . | docker import \
      --change 'CMD ["sh"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change "LABEL io.orchestrator.source-hash=$hash" \
      --change "LABEL org.opencontainers.image.description=\"Local stand-in for busybox: BusyBox $version, static, from source\"" \
      - "$image" >/dev/null
    rm -rf "$root"
    built "$image"
    say "built image $image (BusyBox $version, tagged $busybox_tags)"
  else
    say "image $image is up to date"
  fi
  local tag; for tag in $busybox_tags; do tag_image "$image" "$tag"; done
}

busybox_image_hash() { function_text busybox_binary build_busybox | sha256sum | cut -c1-16; }

# build_busybox's fast path: an image made by these functions, with every tag of busybox_tags, needs neither the
# binary's cache nor a docker call (the hash is the functions' text: a sed and a sha256sum).
busybox_up_to_date() {
  image_up_to_date busybox:latest "$(busybox_image_hash)" || return 1
  local tag; for tag in $busybox_tags; do [ "${image_ids[$tag]:-}" = "${image_ids[busybox:latest]}" ] || return 1; done
  say "image busybox:latest is up to date"
}

# orchestrator/incluster-client:1: a small program with the KubernetesClient library's InClusterConfig that lists its
# namespace's pods with the pod's ServiceAccount token (the E2E tests of projected tokens). Published self-contained,
# so the image holds nothing but the program and the few files it needs.
build_incluster_client() {
  local src="$here/incluster-client"
  local hash; hash=$( { cat "$src/Program.cs" "$src/incluster-client.csproj"; rootfs_recipe; } | sha256sum | cut -c1-16)
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
