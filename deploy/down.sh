#!/usr/bin/env bash
# Stops the single-node cluster and removes its containers. The cluster's objects (master data) survive
# unless --purge is given, which also removes the kubeconfig context.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"

purge=0
for arg in "$@"; do
  case "$arg" in
    --purge) purge=1 ;;
    *) die "unknown argument '$arg' (usage: deploy/down.sh [--purge])" ;;
  esac
done

signal_stop() { # role: asks the process to stop (SIGTERM: it leaves the cluster and exits by itself)
  local pid; pid=$(running_pid "$1")
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; fi # (it may have exited since running_pid looked)
  stopping_pid[$1]=$pid
}
wait_stopped() { # role [what]: waits up to 10 s for the process signal_stop asked, then kills it
  local pid=${stopping_pid[$1]}
  if [ -n "$pid" ]; then
    # polled often: a clean stop takes a fraction of a second (issue 19)
    wait_exited "$pid" 500 0.02 || true
    kill -KILL "$pid" 2>/dev/null || true
    step "stopped the ${2:-$1} (pid $pid)"
  fi
  rm -f "$ORCH_STATE_DIR/$1.pid"
}
declare -A stopping_pid

# The node first: it leaves the cluster through the master (the master's leader moves it to Exiting). The master
# stops while the node's containers are removed below. One process (deploy/up.sh's default, orchestrator-all-in-one:
# both pid files name it) stops its node, then its master, by itself on the one SIGTERM.
one_process=0
[ -n "$(running_pid node)" ] && [ "$(running_pid node)" = "$(running_pid master)" ] && one_process=1
signal_stop node
if [ $one_process -eq 1 ]; then
  wait_stopped node "master and the node"
  rm -f "$ORCH_STATE_DIR/master.pid"
  stopping_pid[master]=""
else
  wait_stopped node
  signal_stop master
fi
# the cluster's registry (up.sh --registry), if it runs; its images stay under the state directory
for pidfile in "$ORCH_STATE_DIR"/registry-*/registry.pid; do
  [ -f "$pidfile" ] || continue
  "$ORCH_ROOT/deploy/lib/registry.sh" stop "$(sed -n 's/^  addr: //p' "$(dirname "$pidfile")/config.yml")"
done

if docker version >/dev/null 2>&1; then
  # Only this cluster's node: other clusters on the machine (a lab, the E2E tests) keep their containers.
  containers=$(docker ps -aq --filter "label=io.orchestrator.node=$ORCH_NODE_NAME")
  if [ -n "$containers" ]; then
    docker rm -f $containers >/dev/null
    step "removed $(echo "$containers" | wc -l) container(s)"
  fi
fi

release_node_addresses
wait_stopped master

if [ $purge -eq 1 ]; then
  if docker version >/dev/null 2>&1; then
    # the pods' volumes (emptyDir, configMap, secret …) go with the pods; a secret's tmpfs is unmounted first
    volumes=$(docker volume ls -q --filter "label=io.orchestrator.node=$ORCH_NODE_NAME")
    for v in $volumes; do
      mp=$(docker volume inspect -f '{{.Mountpoint}}' "$v" 2>/dev/null || true)
      [ -n "$mp" ] && mountpoint -q "$mp" 2>/dev/null && umount -l "$mp" 2>/dev/null || true
    done
    [ -z "$volumes" ] || { docker volume rm -f $volumes >/dev/null 2>&1 || true; step "removed $(echo "$volumes" | wc -l) pod volume(s)"; }
  fi
  rm -rf "$ORCH_STATE_DIR/master" "$ORCH_STATE_DIR/kubeconfig.checked"
  kubectl config delete-context "$ORCH_CONTEXT" >/dev/null 2>&1 || true
  kubectl config delete-cluster "$ORCH_CONTEXT" >/dev/null 2>&1 || true
  kubectl config delete-user "$ORCH_CONTEXT" >/dev/null 2>&1 || true
  step "purged the cluster's data and kubeconfig context '$ORCH_CONTEXT'"
fi
say "Orchestrator is down.$([ $purge -eq 1 ] || echo " Its objects come back with deploy/up.sh.")"
