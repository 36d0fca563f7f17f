#!/usr/bin/env bash
# Builds the demo images locally (no registry is reachable): orchestrator/http-server, also tagged
# katacoda/docker-http-server:latest so the seed's commands and manifests run unchanged offline.
# Skips an image whose source has not changed since it was built.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib/common.sh"

build_http_server() {
  local src="$here/http-server/http-server.c"
  local hash; hash=$(sha256sum "$src" | cut -c1-16)
  if [ "$(docker image inspect -f '{{ index .Config.Labels "io.orchestrator.source-hash" }}' orchestrator/http-server:latest 2>/dev/null)" = "$hash" ]; then
    docker tag orchestrator/http-server:latest katacoda/docker-http-server:latest
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
  docker tag orchestrator/http-server:latest katacoda/docker-http-server:latest
  say "built image orchestrator/http-server:latest (tagged katacoda/docker-http-server:latest)"
}

ensure_docker
build_http_server
