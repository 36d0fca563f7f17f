#!/usr/bin/env bash
# Ends pause-master.sh NAME. A master that was downed while paused finds itself removed from the cluster and stops;
# it is then started again on its data and joins as a follower.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
[ $# -eq 1 ] || die "usage: deploy/lab/resume-master.sh NAME (one of: $(master_names | tr '\n' ' '))"
i=$(master_index "$1")
key=$(master_key "$i")
[ "$(master_state "$i")" = paused ] || die "$1 is not paused (it is $(master_state "$i"))"
pid=$(running_pid "$key")
kill -CONT "$pid"
say "resumed $1 (pid $pid) at $(date -u +%H:%M:%S.%3N)"
# a downed master learns it on its first gossip and stops within seconds (more on a busy machine)
if wait_exited "$pid" 120 0.25; then
  rm -f "$ORCH_STATE_DIR/$key.pid"
  step "$1 had been downed and stopped; starting it again as a follower"
  start_master "$i"
fi
say "$1 is $(master_state "$i") (pid $(running_pid "$key"))"
