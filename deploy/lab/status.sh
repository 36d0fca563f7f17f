#!/usr/bin/env bash
# The lab's processes (running, paused or stopped) and what the master thinks of its nodes.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
[ $# -eq 0 ] || die "usage: deploy/lab/status.sh"
pid=$(running_pid master)
say "master  ${pid:+pid $pid }$([ -n "$pid" ] && echo running || echo stopped)  $LAB_SERVER"
for name in $(known_nodes); do
  index=$(node_index "$name")
  pid=$(node_pid "$name")
  printf '%-12s %-8s %-16s %s\n' "$name" "$(node_state "$name")" "$(node_address "$index")" "${pid:+pid $pid}"
done
[ -n "$(running_pid master)" ] && lab_kubectl get nodes -o wide || true
