#!/usr/bin/env bash
# The lab's processes (running, paused or stopped) and what the master thinks of its nodes.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
[ $# -eq 0 ] || die "usage: deploy/lab/status.sh"
if [ "$(lab_masters)" -gt 1 ]; then
  for i in $(seq 1 "$(lab_masters)"); do
    pid=$(running_pid "$(master_key "$i")") api=
    # a running master whose API does not answer is starting, or between two incarnations (downed, rejoining)
    if [ "$(master_state "$i")" = running ]; then
      api=$(curl -sfk -m 2 "$(master_server "$i")/livez" >/dev/null 2>&1 && echo "API answers" || echo "API silent (starting or rejoining)")
    fi
    printf '%-12s %-8s %-24s %s\n' "master-$i" "$(master_state "$i")" "$(master_server "$i")" "${pid:+pid $pid}${api:+, $api}"
  done
  pid=$(running_pid api-proxy)
  printf '%-12s %-8s %-24s %s\n' "api-proxy" "$([ -n "$pid" ] && echo running || echo stopped)" "https://$LAB_API_PROXY" "${pid:+pid $pid}"
else
  pid=$(running_pid master)
  say "master  ${pid:+pid $pid }$([ -n "$pid" ] && echo running || echo stopped)  $LAB_SERVER"
fi
for name in $(known_nodes); do
  index=$(node_index "$name")
  pid=$(node_pid "$name")
  printf '%-12s %-8s %-16s %s\n' "$name" "$(node_state "$name")" "$(node_address "$index")" "${pid:+pid $pid}"
done
[ -n "$(live_masters)" ] && lab_kubectl get nodes -o wide || true
