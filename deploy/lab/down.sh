#!/usr/bin/env bash
# Stops the lab: every node (frozen ones too) and the master, and removes the lab nodes' containers. The cluster's
# objects survive unless --purge is given, which also forgets the nodes and removes the kubeconfig context.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

purge=0
for arg in "$@"; do
  case "$arg" in
    --purge) purge=1 ;;
    *) die "unknown argument '$arg' (usage: deploy/lab/down.sh [--purge])" ;;
  esac
done

for name in $(known_nodes); do
  pid=$(node_pid "$name")
  if [ -n "$pid" ]; then stop_pid "$pid"; step "stopped $name (pid $pid)"; fi
  rm -f "$(node_pid_file "$name")"
  removed=$(remove_node_containers "$name")
  [ -n "$removed" ] && step "removed $removed container(s) of $name"
  [ $purge -eq 1 ] && rm -f "$LAB_NODES_DIR/$name.index"
done
for i in $(seq "$(lab_masters)" -1 1); do # the followers first, so the control plane does not move on the way down
  key=$(master_key "$i")
  pid=$(running_pid "$key")
  if [ -n "$pid" ]; then stop_pid "$pid"; step "stopped $([ "$(lab_masters)" -gt 1 ] && echo "master-$i" || echo "the master") (pid $pid)"; fi
  rm -f "$ORCH_STATE_DIR/$key.pid"
done
pid=$(running_pid api-proxy)
if [ -n "$pid" ]; then stop_pid "$pid"; step "stopped the API load balancer (pid $pid)"; fi
rm -f "$ORCH_STATE_DIR/api-proxy.pid"
if [ -f "$LAB_POSTGRES_DIR/endpoint" ]; then postgres_stop "$LAB_POSTGRES_DIR"; step "stopped PostgreSQL"; fi
# the lab's registry (up.sh --registry), if it runs; its images stay under the lab's state directory
for pidfile in "$ORCH_STATE_DIR"/registry-*/registry.pid; do
  [ -f "$pidfile" ] || continue
  "$LAB_ROOT/deploy/lib/registry.sh" stop "$(sed -n 's/^  addr: //p' "$(dirname "$pidfile")/config.yml")"
done

release_node_addresses "$LAB_BRIDGE"

if [ $purge -eq 1 ]; then
  rm -rf "$ORCH_STATE_DIR"/master "$ORCH_STATE_DIR"/master-[0-9]* "$LAB_NODES_DIR" "$LAB_POSTGRES_DIR" "$LAB_MASTERS_FILE"
  kubectl config delete-context "$ORCH_CONTEXT" >/dev/null 2>&1 || true
  kubectl config delete-cluster "$ORCH_CONTEXT" >/dev/null 2>&1 || true
  kubectl config delete-user "$ORCH_CONTEXT" >/dev/null 2>&1 || true
  step "purged the lab's data and kubeconfig context '$ORCH_CONTEXT'"
fi
say "The lab is down.$([ $purge -eq 1 ] || echo " Its objects and nodes come back with deploy/lab/up.sh.")"
