#!/usr/bin/env bash
# Drill: node NAME's machine is lost. Its process is killed (SIGKILL, no goodbye to the master) and its containers
# die with it. The master notices the missing heartbeats within the grace period, marks the node NotReady and
# evicts its pods; their controllers recreate them on the other nodes. Bring the machine back with add-node.sh NAME.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
[ $# -eq 1 ] || die "usage: deploy/lab/kill-node.sh NAME"
require_node "$1"
pid=$(node_pid "$1")
[ -n "$pid" ] || die "node '$1' is not running"
kill -KILL "$pid"
wait_exited "$pid" 40 0.05 || true
rm -f "$(node_pid_file "$1")"
removed=$(remove_node_containers "$1")
say "killed $1 (pid $pid) at $(date -u +%H:%M:%S.%3N) and removed ${removed:-0} container(s); it turns NotReady within ${LAB_GRACE}s"
