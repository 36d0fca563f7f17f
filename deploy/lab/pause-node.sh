#!/usr/bin/env bash
# Drill: a network partition. Node NAME's process is frozen (SIGSTOP): it sends nothing and answers nothing, while its
# containers keep running. The master marks it NotReady after the grace period and recreates its pods elsewhere;
# resume-node.sh NAME ends the partition, and the node then stops the pods that now run elsewhere.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
[ $# -eq 1 ] || die "usage: deploy/lab/pause-node.sh NAME"
require_node "$1"
pid=$(node_pid "$1")
[ -n "$pid" ] || die "node '$1' is not running"
[ "$(node_state "$1")" = paused ] && die "node '$1' is already paused"
kill -STOP "$pid"
say "paused $1 (pid $pid) at $(date -u +%H:%M:%S.%3N); resume it with deploy/lab/resume-node.sh $1"
