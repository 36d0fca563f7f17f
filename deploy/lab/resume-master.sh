#!/usr/bin/env bash
# Ends pause-master.sh NAME. A master that was downed while paused finds itself removed from the cluster when it runs
# again: it ends its actor system and, in the same process, starts a new incarnation that joins the others as a
# follower (its log says "a new incarnation"); this waits until that one answers. (A master of an older build stopped
# instead; it is then started again here.) A master that was not downed just goes on; this waits 120 s to be sure.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
[ $# -eq 1 ] || die "usage: deploy/lab/resume-master.sh NAME (one of: $(master_names | tr '\n' ' '))"
i=$(master_index "$1")
key=$(master_key "$i")
[ "$(master_state "$i")" = paused ] || die "$1 is not paused (it is $(master_state "$i"))"
pid=$(running_pid "$key")
log="$ORCH_STATE_DIR/logs/$key.log"
before=$(wc -l <"$log")
kill -CONT "$pid"
say "resumed $1 (pid $pid) at $(date -u +%H:%M:%S.%3N)"
# a downed master learns it on its first gossip, within seconds (more on a busy machine)
for _ in $(seq 1 480); do
  if ! process_alive "$pid"; then
    rm -f "$ORCH_STATE_DIR/$key.pid"
    step "$1 had been downed and stopped; starting it again as a follower"
    start_master "$i"
    break
  fi
  if tail -n +"$((before + 1))" "$log" | grep -qF "$NEW_INCARNATION_LINE"; then
    step "$1 had been downed; a new incarnation in the same process (pid $pid) joins as a follower"
    wait_master_ready "$i"
    break
  fi
  sleep 0.25
done
say "$1 is $(master_state "$i") (pid $(running_pid "$key"))"
