#!/usr/bin/env bash
# Builds the container images of the master and the node without a registry: `dotnet publish` (framework-dependent),
# then a root file system of the .NET runtime this machine has (dotnet host, Microsoft.NETCore.App and
# Microsoft.AspNetCore.App, and the libraries ldd names for them, OpenSSL included), the published binaries in /app,
# and for the node the `ip` command; `docker import` makes the image. Tags: orchestrator/master:latest and
# orchestrator/node:latest. An image whose sources have not changed since it was built is kept.
# Running them on real machines: deploy/systemd/README.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib/common.sh"

dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
work="$ORCH_STATE_DIR/images"

# The newest runtime of a framework on this machine: NAME VERSION.
runtime_version() {
  dotnet --list-runtimes | awk -v f="$1" '$1 == f { v = $2 } END { if (v == "") exit 1; print v }' \
    || die "the .NET runtime $1 is not installed (dotnet --list-runtimes)"
}

# Copies a file of the host and the shared libraries ldd names for it into a root file system.
copy_with_libs() {
  local root=$1 file=$2
  mkdir -p "$root$(dirname "$file")"
  cp -L "$file" "$root$file"
  ldd "$file" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

runtime_rootfs() { # root
  local root=$1 core aspnet fxr
  core=$(runtime_version Microsoft.NETCore.App)
  aspnet=$(runtime_version Microsoft.AspNetCore.App)
  fxr=$(ls "$dotnet_root/host/fxr" | sort -V | tail -1)
  mkdir -p "$root/usr/share/dotnet/shared" "$root/usr/share/dotnet/host" "$root/etc" "$root/tmp" "$root/app"
  cp -a "$dotnet_root/dotnet" "$root/usr/share/dotnet/"
  cp -a "$dotnet_root/host/fxr" "$root/usr/share/dotnet/host/"
  mkdir -p "$root/usr/share/dotnet/shared/Microsoft.NETCore.App" "$root/usr/share/dotnet/shared/Microsoft.AspNetCore.App"
  cp -a "$dotnet_root/shared/Microsoft.NETCore.App/$core" "$root/usr/share/dotnet/shared/Microsoft.NETCore.App/"
  cp -a "$dotnet_root/shared/Microsoft.AspNetCore.App/$aspnet" "$root/usr/share/dotnet/shared/Microsoft.AspNetCore.App/"
  copy_with_libs "$root" "$dotnet_root/dotnet"
  find "$root/usr/share/dotnet" -name '*.so' | while read -r lib; do copy_with_libs "$root" "${lib#"$root"}" 2>/dev/null || true; done
  # loaded at run time (TLS of the API and of the cluster), so ldd does not list them
  for lib in libssl.so.3 libcrypto.so.3; do
    copy_with_libs "$root" "$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ { print $NF; exit }')"
  done
  echo "root:x:0:0:root:/:/usr/share/dotnet/dotnet" > "$root/etc/passwd"
  echo "root:x:0:" > "$root/etc/group"
  echo "hosts: files dns" > "$root/etc/nsswitch.conf"
  chmod 1777 "$root/tmp"
  echo "$core"
}

build_image() { # role project image [extra files...]
  local role=$1 project=$2 image=$3; shift 3
  local hash
  hash=$( { find "$ORCH_ROOT/src" \( -name '*.cs' -o -name '*.csproj' -o -name '*.proto' -o -name '*.json' \) \
              -not -path '*/bin/*' -not -path '*/obj/*' -print0 | sort -z | xargs -0 cat
            cat "$ORCH_ROOT/Directory.Build.props" "$ORCH_ROOT/Directory.Packages.props" "${BASH_SOURCE[0]}"
            dotnet --list-runtimes; } | sha256sum | cut -c1-16)
  if [ "$(docker image inspect -f '{{ index .Config.Labels "io.orchestrator.source-hash" }}' "$image" 2>/dev/null)" = "$hash" ]; then
    say "image $image is up to date"
    return
  fi
  local out="$work/publish/$role" root="$work/rootfs-$role"
  rm -rf "$out" "$root"
  dotnet publish "$ORCH_ROOT/src/$project" -c Release -r linux-x64 --self-contained false -o "$out" -p:UseAppHost=false -nologo -v quiet >"$work/publish-$role.log" 2>&1 \
    || { tail -20 "$work/publish-$role.log" >&2; die "dotnet publish $project failed (log: $work/publish-$role.log)"; }
  local version; version=$(runtime_rootfs "$root")
  cp -a "$out/." "$root/app/"
  for file in "$@"; do copy_with_libs "$root" "$file"; done
  local dll; dll=$(basename "$(ls "$out"/orchestrator-*.dll | head -1)")
  local changes=(
    --change "ENV DOTNET_ROOT=/usr/share/dotnet"
    --change "ENV PATH=/usr/share/dotnet:/usr/sbin:/usr/bin:/sbin:/bin"
    --change "WORKDIR /app"
    --change "ENTRYPOINT [\"/usr/share/dotnet/dotnet\", \"/app/$dll\"]"
    --change "LABEL io.orchestrator.source-hash=$hash"
    --change "LABEL org.opencontainers.image.description=\"Orchestrator $role on .NET $version\""
  )
  if [ "$role" = master ]; then
    changes+=(--change "ENV ORCHESTRATOR_MASTER_DATA_DIR=/var/lib/orchestrator/master" --change "VOLUME /var/lib/orchestrator")
  fi
  tar -C "$root" -c . | docker import "${changes[@]}" - "$image" >/dev/null
  rm -rf "$root"
  say "built image $image ($(docker image inspect -f '{{ .Size }}' "$image" | awk '{ printf "%d MB", $1 / 1000000 }'))"
}

ensure_docker
mkdir -p "$work"
build_image master Orchestrator.Master orchestrator/master:latest
build_image node Orchestrator.Node orchestrator/node:latest "$(readlink -f "$(command -v ip)")"
