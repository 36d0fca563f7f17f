#!/usr/bin/env bash
# Brings up the multi-node lab on this machine: one master (or --masters M on one local PostgreSQL) and N nodes (lab-node-1 … lab-node-N on 127.0.0.11 …),
# each node with its own address, pod range and NodePort listeners, all sharing the machine's Docker engine, and a
# kubeconfig context "orchestrator-lab". Running it again starts nodes that are missing up to N and changes nothing
# else. Settings: see deploy/lab/lib.sh.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

usage="usage: deploy/lab/up.sh [--nodes N (3)] [--masters M (1)] [--registry]"
nodes=3 with_registry=0 masters=1
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) [ $# -ge 2 ] || die "--nodes needs a number ($usage)"; nodes=$2; shift 2 ;;
    --nodes=*) nodes=${1#--nodes=}; shift ;;
    --masters) [ $# -ge 2 ] || die "--masters needs a number ($usage)"; masters=$2; shift 2 ;;
    --masters=*) masters=${1#--masters=}; shift ;;
    --registry) with_registry=1; shift ;; # the cluster's registry (deploy/lib/registry.sh), shared by every lab node
    -h|--help) say "$usage"; exit 0 ;;
    *) die "unknown argument '$1' ($usage)" ;;
  esac
done
[[ "$nodes" =~ ^[0-9]+$ ]] && [ "$nodes" -ge 1 ] && [ "$nodes" -le "$LAB_MAX_NODES" ] \
  || die "--nodes must be a number from 1 to $LAB_MAX_NODES"
[[ "$masters" =~ ^[0-9]+$ ]] && [ "$masters" -ge 1 ] && [ "$masters" -le 9 ] || die "--masters must be a number from 1 to 9"
if [ -n "$(running_pid master)" ] && [ "$(lab_masters)" != "$masters" ]; then
  die "the lab runs with $(lab_masters) master(s); stop it first (deploy/lab/down.sh) to change that"
fi

started_ms=$(date +%s%3N)
[ $with_registry -eq 1 ] && "$LAB_ROOT/deploy/lib/registry.sh" start "${ORCH_REGISTRY:-127.0.0.1:5000}"
prepare_machine
mkdir -p "$LAB_NODES_DIR"

if [ "$masters" -gt 1 ]; then
  echo "$masters" >"$LAB_MASTERS_FILE"
  step "PostgreSQL for $masters masters (state in $LAB_POSTGRES_DIR)"
  postgres_start "$LAB_POSTGRES_DIR" >/dev/null
  for i in $(seq 1 "$masters"); do
    step "master-$i ($(master_server "$i"), cluster port $(master_cluster_port "$i"), node grace period ${LAB_GRACE}s)"
    start_master "$i"
  done
  step "API load balancer on $LAB_API_PROXY (to $(master_api_servers))"
  start_api_proxy
else
  rm -f "$LAB_MASTERS_FILE"
  step "master ($LAB_SERVER, cluster port $ORCH_CLUSTER_PORT, node grace period ${LAB_GRACE}s)"
  start_master
fi
write_kubeconfig
kubectl config use-context "$ORCH_CONTEXT" >/dev/null

since=$(date -u +%s)
names=()
started=()
for i in $(seq 1 "$nodes"); do
  name="$LAB_NODE_PREFIX$i"
  names+=("$name")
  if [ -n "$(node_pid "$name")" ]; then continue; fi
  step "node $name ($(node_address "$i"), pods $(node_pod_cidr "$i"))"
  start_node "$name" "$i"
  started+=("$name")
done
if [ ${#started[@]} -gt 0 ]; then
  # a Node object may survive from an earlier run with Ready=True: only a heartbeat newer than this start counts
  step "waiting for ${#started[@]} node(s) to be Ready"
  wait_ready "$since" "${started[@]}"
else
  say "  all ${#names[@]} node(s) were already running; nothing changed"
fi

elapsed_ms=$(( $(date +%s%3N) - started_ms ))
lab_kubectl get nodes -o wide
cat <<MSG

The lab is up in $((elapsed_ms / 1000)).$(( (elapsed_ms % 1000) / 100 ))s: $([ "$masters" -gt 1 ] && echo "$masters masters ($(lab_peers)) behind the API load balancer https://$LAB_API_PROXY, first" || echo master) $LAB_SERVER (pid $(running_pid master)), ${#names[@]} node(s).
kubectl now uses the context '$ORCH_CONTEXT'. Try:
  kubectl create deployment web --image=katacoda/docker-http-server:latest --replicas=6
  kubectl expose deployment web --type=NodePort --port=80
  kubectl get pods -o wide                      # spread over the nodes
  curl http://127.0.0.12:\$(kubectl get svc web -o jsonpath='{.spec.ports[0].nodePort}')
Drills: deploy/lab/kill-node.sh lab-node-1 | pause-node.sh NAME | resume-node.sh NAME | restart-master.sh
        with --masters: kill-master.sh master-1 | pause-master.sh NAME | resume-master.sh NAME
Nodes:  deploy/lab/add-node.sh [NAME] | remove-node.sh NAME | status.sh     Stop: deploy/lab/down.sh [--purge]
Logs: $ORCH_STATE_DIR/logs
MSG
