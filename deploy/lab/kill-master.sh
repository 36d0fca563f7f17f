#!/usr/bin/env bash
# Drill (several masters): master NAME's machine is lost. Its process is killed (SIGKILL, no goodbye). The other masters
# see it unreachable, the split brain resolver downs it (the majority of masters remains), and if it held the control
# plane the next oldest master starts it, recovering the store from PostgreSQL; the nodes register with its gateway.
# kubectl keeps working: the lab's context goes through the API load balancer, which sends new connections to the
# masters that are up. Bring it back with restart-master.sh NAME.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
[ $# -eq 1 ] || die "usage: deploy/lab/kill-master.sh NAME (one of: $(master_names | tr '\n' ' '))"
[ "$(lab_masters)" -gt 1 ] || die "the lab has one master (start it with deploy/lab/up.sh --masters 3); restart-master.sh restarts it"
i=$(master_index "$1")
key=$(master_key "$i")
pid=$(running_pid "$key")
[ -n "$pid" ] || die "$1 is not running"
kill -KILL "$pid"
wait_exited "$pid" 40 0.05 || true
rm -f "$ORCH_STATE_DIR/$key.pid"
say "killed $1 (pid $pid) at $(date -u +%H:%M:%S.%3N); kubectl's context '$ORCH_CONTEXT' goes on through the API load balancer https://$LAB_API_PROXY"
