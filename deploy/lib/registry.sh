#!/usr/bin/env bash
# The cluster's image registry (minikube's and k3d's `registry`): Debian's docker-registry (the distribution registry)
# on a loopback address, its storage under the state directory, detached like the cluster's other daemons. Docker
# trusts registries on 127.0.0.0/8 without TLS, so every node on this machine pulls from it as it is.
#
#   deploy/lib/registry.sh start [ADDRESS:PORT] [HTPASSWD-FILE]   (default 127.0.0.1:5000; with a file: basic auth)
#   deploy/lib/registry.sh stop  [ADDRESS:PORT]
#   deploy/lib/registry.sh status [ADDRESS:PORT]
# State: $ORCH_STATE_DIR/registry-<port>/ (config.yml, data/, registry.pid, registry.log).
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

command=${1:-}
address=${2:-${ORCH_REGISTRY:-127.0.0.1:5000}}
htpasswd_file=${3:-}
case "$address" in 127.*:[0-9]*) ;; *) die "the registry's address must be a loopback ADDRESS:PORT (127.x.y.z:port), not '$address'" ;; esac
port=${address##*:}
dir="$ORCH_STATE_DIR/registry-$port"
pidfile="$dir/registry.pid"

registry_pid() { alive_pid_in "$pidfile"; } # not an exited registry PID 1 has yet to reap

answers() { curl -s -o /dev/null -w '%{http_code}' "http://$address/v2/" 2>/dev/null | grep -qE '^(200|401)$'; }

case "$command" in
  start)
    if [ -n "$(registry_pid)" ]; then say "the registry already runs on $address (pid $(registry_pid))"; exit 0; fi
    # another cluster's on this machine (the lab's and deploy/up.sh's both default to 127.0.0.1:5000): every node here
    # pulls from it as it is; a second registry could not bind the address, and stopping this cluster leaves it running
    if answers; then say "a registry of another cluster already answers on $address: this cluster's nodes use it"; exit 0; fi
    command -v docker-registry >/dev/null 2>&1 || ensure_packages docker-registry
    mkdir -p "$dir/data"
    {
      printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$dir/data"
      printf 'http:\n  addr: %s\n' "$address"
      if [ -n "$htpasswd_file" ]; then
        [ -s "$htpasswd_file" ] || die "no htpasswd file at $htpasswd_file (make one with: htpasswd -Bbn USER PASSWORD > FILE)"
        printf 'auth:\n  htpasswd:\n    realm: orchestrator-registry\n    path: %s\n' "$(realpath "$htpasswd_file")"
      fi
    } >"$dir/config.yml"
    start_detached "$pidfile" "$dir/registry.log" docker-registry serve "$dir/config.yml"
    for _ in $(seq 1 60); do
      answers && { step "registry on $address (storage $dir/data${htpasswd_file:+, htpasswd auth})"; exit 0; }
      [ -n "$(registry_pid)" ] || die "the registry exited: $(tail -n 1 "$dir/registry.log") (see $dir/registry.log)"
      sleep 0.5
    done
    die "the registry did not answer on http://$address/v2/ within 30 s (see $dir/registry.log)" ;;
  stop)
    pid=$(registry_pid)
    if [ -z "$pid" ]; then say "no registry runs on $address"; exit 0; fi
    kill "$pid"
    wait_exited "$pid" 40 0.25 || true
    rm -f "$pidfile"
    step "stopped the registry on $address (its images stay in $dir/data)" ;;
  status)
    if [ -n "$(registry_pid)" ] && answers; then say "registry on $address: running (pid $(registry_pid))"; else say "registry on $address: not running"; exit 1; fi ;;
  *) die "usage: deploy/lib/registry.sh start|stop|status [ADDRESS:PORT] [HTPASSWD-FILE]" ;;
esac
