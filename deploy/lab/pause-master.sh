#!/usr/bin/env bash
# Drill (several masters): master NAME is cut off (SIGSTOP): it sends and answers nothing. The others down it after the
# resolver's stable-after; if it held the control plane, the next oldest takes over. resume-master.sh NAME ends the
# partition: a downed master starts a new incarnation in the same process that rejoins as a follower, and
# resume-master.sh waits for it.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
[ $# -eq 1 ] || die "usage: deploy/lab/pause-master.sh NAME (one of: $(master_names | tr '\n' ' '))"
[ "$(lab_masters)" -gt 1 ] || die "the lab has one master (start it with deploy/lab/up.sh --masters 3)"
i=$(master_index "$1")
[ "$(master_state "$i")" = running ] || die "$1 is not running (it is $(master_state "$i"))"
pid=$(running_pid "$(master_key "$i")")
kill -STOP "$pid"
say "paused $1 (pid $pid) at $(date -u +%H:%M:%S.%3N); resume it with deploy/lab/resume-master.sh $1"
