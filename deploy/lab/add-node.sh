#!/usr/bin/env bash
# Adds a node to the running lab: the next lab-node-N, or NAME again when it is a known node that was killed or
# stopped (its machine came back). It joins exactly as a node from another machine would (see the README).
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
[ $# -le 1 ] || die "usage: deploy/lab/add-node.sh [NAME]"
require_master
name=${1:-}
if [ -n "$name" ] && [ -n "$(node_index "$name")" ]; then
  index=$(node_index "$name")
  [ -z "$(node_pid "$name")" ] || die "node '$name' is already running"
else
  last=0
  for known in $(known_nodes); do i=$(node_index "$known"); [ "$i" -gt "$last" ] && last=$i; done
  index=$((last + 1))
  [ "$index" -le "$LAB_MAX_NODES" ] || die "the lab has room for $LAB_MAX_NODES nodes"
  [ -n "$name" ] || name="$LAB_NODE_PREFIX$index"
  [[ "$name" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "'$name' is not a valid node name (lower case letters, digits, '-')"
fi
since=$(date -u +%s)
start_node "$name" "$index"
wait_ready "$since" "$name"
say "node $name is Ready ($(node_address "$index"), pods $(node_pod_cidr "$index"))"
