#!/usr/bin/env bash
# Drill: the master restarts (SIGTERM, then started again on the same data). Objects come back from its journal; the
# nodes rejoin and keep their containers. With several masters: restart-master.sh NAME restarts (or starts, after
# kill-master.sh) that one, which joins the others as a follower; restart-master.sh --all stops every master (the
# followers first) and starts them again in order: the cluster's objects come back from PostgreSQL.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
if [ "$(lab_masters)" -gt 1 ]; then
  [ $# -eq 1 ] || die "usage: deploy/lab/restart-master.sh NAME|--all (NAME one of: $(master_names | tr '\n' ' '))"
  if [ "$1" = --all ]; then
    for i in $(seq "$(lab_masters)" -1 1); do
      key=$(master_key "$i")
      pid=$(running_pid "$key")
      if [ -n "$pid" ]; then stop_pid "$pid"; fi
      rm -f "$ORCH_STATE_DIR/$key.pid"
    done
    stopped=$(date -u +%H:%M:%S.%3N)
    for i in $(seq 1 "$(lab_masters)"); do start_master "$i"; done
    write_kubeconfig
    say "restarted every master: all stopped at $stopped, all answer since $(date -u +%H:%M:%S.%3N)"
    exit 0
  fi
  i=$(master_index "$1")
  key=$(master_key "$i")
  pid=$(running_pid "$key")
  if [ -n "$pid" ]; then stop_pid "$pid"; fi
  rm -f "$ORCH_STATE_DIR/$key.pid"
  stopped=$(date -u +%H:%M:%S.%3N)
  start_master "$i"
  say "restarted $1: ${pid:+stopped pid $pid at $stopped, }pid $(running_pid "$key") answers since $(date -u +%H:%M:%S.%3N)"
  exit 0
fi
[ $# -eq 0 ] || die "usage: deploy/lab/restart-master.sh"
require_master
pid=$(running_pid master)
stop_pid "$pid"
rm -f "$ORCH_STATE_DIR/master.pid"
stopped=$(date -u +%H:%M:%S.%3N)
start_master
say "restarted the master: stopped pid $pid at $stopped, pid $(running_pid master) answers since $(date -u +%H:%M:%S.%3N)"
