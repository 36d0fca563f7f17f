#!/usr/bin/env bash
# Ends a pause-node.sh partition: node NAME's process continues (SIGCONT), rejoins the master and reconciles its
# containers against the pods the master still gives it.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
[ $# -eq 1 ] || die "usage: deploy/lab/resume-node.sh NAME"
require_node "$1"
pid=$(node_pid "$1")
[ -n "$pid" ] || die "node '$1' is not running"
[ "$(node_state "$1")" = paused ] || die "node '$1' is not paused"
kill -CONT "$pid"
say "resumed $1 (pid $pid) at $(date -u +%H:%M:%S.%3N)"
