#!/usr/bin/env bash
# Takes node NAME out of the lab the way an administrator retires a machine: cordon, drain (its pods are evicted and
# recreated on the other nodes), stop the node process, remove its containers and delete the Node object.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
[ $# -eq 1 ] || die "usage: deploy/lab/remove-node.sh NAME"
require_master
require_node "$1"
name=$1
if [ "$(node_state "$name")" = running ]; then
  lab_kubectl drain "$name" --ignore-daemonsets --delete-emptydir-data --force --timeout=120s >/dev/null \
    || die "draining $name failed; it is cordoned and still runs (retry, or kill-node.sh $name)"
  step "drained $name"
fi
pid=$(node_pid "$name")
if [ -n "$pid" ]; then stop_pid "$pid"; step "stopped $name (pid $pid)"; fi
removed=$(remove_node_containers "$name")
[ -n "$removed" ] && step "removed $removed container(s)"
lab_kubectl delete node "$name" --ignore-not-found >/dev/null
rm -f "$(node_pid_file "$name")" "$LAB_NODES_DIR/$name.index"
say "removed node $name"
