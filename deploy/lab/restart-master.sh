#!/usr/bin/env bash
# Drill: the master restarts (SIGTERM, then started again on the same data). Objects come back from its journal; the
# nodes rejoin and keep their containers.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
[ $# -eq 0 ] || die "usage: deploy/lab/restart-master.sh"
require_master
pid=$(running_pid master)
stop_pid "$pid"
rm -f "$ORCH_STATE_DIR/master.pid"
stopped=$(date -u +%H:%M:%S.%3N)
start_master
say "restarted the master: stopped pid $pid at $stopped, pid $(running_pid master) answers since $(date -u +%H:%M:%S.%3N)"
