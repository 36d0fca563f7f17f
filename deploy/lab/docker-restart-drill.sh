#!/usr/bin/env bash
# Drill: the container runtime restarts under a running node (`systemctl restart docker`, a dockerd crash or upgrade).
# Brings up a private single-node cluster (deploy/up.sh, two processes, its own state directory, ports and kubeconfig),
# runs a Deployment of 2 http-server replicas behind a NodePort Service, a pod with restartPolicy Never, a Job that is
# still running and one that has completed; then for each DOWN_SECONDS stops dockerd (SIGTERM, waits until it is gone:
# without live-restore every container stops with it), waits, starts it again as deploy/lib/common.sh does
# (ensure_docker: detached, none of our open files), and samples every 2 s the Node's Ready condition, the NodePort
# and the node process (alive, CPU, log lines) until the cluster has recovered. Prints one line per sample and a
# summary per round, then kubectl logs/exec, restart counts, events, and takes the cluster down (--purge).
#
# A round written freeze:SECONDS freezes dockerd instead (SIGSTOP, then SIGCONT): a hung engine, not a dead one. Its
# containers run on, so the NodePort keeps answering; the node's heartbeats (the Lease's renewals) must go on, the Node
# turn NotReady only after 30 s without an answer ("container runtime is down", the kubelet's maxWaitForContainerRuntime),
# and after SIGCONT be Ready again with the same containers (none restarted, none made twice). The round samples every
# 2 s the Ready condition, the Lease's renewTime (each new one is a heartbeat the master took), the NodePort and the
# pods' readiness, and prints the figures: time to NotReady, renewals seen while frozen, NodePort answers while frozen,
# time back to Ready after SIGCONT. A frozen dockerd is continued whatever ends the drill (its EXIT trap).
#
# Restarting dockerd stops every container on the machine, and freezing it stalls every Docker client: the drill takes
# the machine's lock (/tmp/orchestrator-e2e.lock) itself unless DRILL_LOCKED=1, and refuses to restart dockerd while
# containers that are not its own run (DRILL_FORCE=1 runs anyway: those with a restart policy come back with dockerd,
# the others are started again at the end). Usage: deploy/lab/docker-restart-drill.sh [DOWN_SECONDS|freeze:SECONDS...]
# (default: 20 70)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "${DRILL_LOCKED:-0}" != 1 ]; then
  exec flock -w 1800 /tmp/orchestrator-e2e.lock env DRILL_LOCKED=1 "$here/docker-restart-drill.sh" "$@"
fi
export ORCH_STATE_DIR="${DRILL_STATE_DIR:-$(cd "$here/../.." && pwd)/.state-dockerdrill}"
source "$here/../lib/common.sh"
rounds=("$@"); [ ${#rounds[@]} -gt 0 ] || rounds=(20 70)
restarts=0
for s in "${rounds[@]}"; do
  [[ "$s" =~ ^(freeze:)?[0-9]+$ ]] || die "usage: deploy/lab/docker-restart-drill.sh [DOWN_SECONDS|freeze:SECONDS...]"
  [[ "$s" == freeze:* ]] || restarts=$((restarts + 1))
done

export ORCH_API_PORT=17443 ORCH_CLUSTER_PORT=17050 ORCH_HEALTHZ_PORT=10448 ORCH_CONTEXT=orchestrator-dockerdrill
export ORCH_NODE_NAME=dockerdrill-node ORCH_ONE_PROCESS=0 ORCH_INGRESS_HTTP_PORT=10480 ORCH_INGRESS_HTTPS_PORT=10843
export ORCH_LOAD_BALANCER_POOL=127.0.102.0/24 ORCH_BIN_DIR="$ORCH_STATE_DIR/path" KUBECONFIG="$ORCH_STATE_DIR/kubeconfig"
node_port=31987
k() { kubectl --context "$ORCH_CONTEXT" "$@"; }
ts() { date -u +%H:%M:%S; }

others=$(docker ps -q --filter "label=io.orchestrator.node!=$ORCH_NODE_NAME" 2>/dev/null | sort)
unlabelled=$(comm -13 <(docker ps -q --filter label=io.orchestrator.node | sort) <(docker ps -q | sort))
running_before=$(printf '%s\n%s\n' "$others" "$unlabelled" | sort -u | sed '/^$/d')
if [ -n "$running_before" ] && [ "$restarts" -gt 0 ] && [ "${DRILL_FORCE:-0}" != 1 ]; then
  die "$(echo "$running_before" | wc -l) container(s) of others run on this machine; restarting dockerd would stop them (DRILL_FORCE=1 to run anyway)"
fi

mkdir -p "$ORCH_STATE_DIR"
"$ORCH_ROOT/deploy/down.sh" --purge >/dev/null 2>&1 || true
"$ORCH_ROOT/deploy/up.sh" | sed 's/^/  /'
node_log="$ORCH_STATE_DIR/logs/node.log"
node_log_start=$(wc -l <"$node_log") # (the log is appended to across runs)
node_pid=$(running_pid node)
# a dockerd this drill froze is continued first, whatever ended it (a failed command, ^C, a kill): frozen, it would stall
# every Docker client on the machine, deploy/down.sh included
frozen_pid=""
continue_dockerd() { if [ -n "$frozen_pid" ]; then kill -CONT "$frozen_pid" 2>/dev/null || true; frozen_pid=""; fi; }
trap 'continue_dockerd; "$ORCH_ROOT/deploy/down.sh" --purge >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

k apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: orchestrator/http-server:latest, imagePullPolicy: IfNotPresent, ports: [{containerPort: 80}],
         readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 2}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 80, nodePort: $node_port}]
---
apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  containers: [{name: once, image: busybox:1.36, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: long}
spec:
  backoffLimit: 6
  template:
    spec:
      restartPolicy: OnFailure
      terminationGracePeriodSeconds: 2
      containers: [{name: long, image: busybox:1.36, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: stranger, labels: {role: stranger}}
spec:
  terminationGracePeriodSeconds: 2
  containers: [{name: stranger, image: busybox:1.36, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-long}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  # the Job's pods, and the host (the NodePort's clients come through the node's proxy from 127.0.0.1)
  ingress: [{from: [{podSelector: {matchLabels: {job-name: long}}}, {ipBlock: {cidr: 127.0.0.0/8}}]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: quick}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: quick, image: busybox:1.36, imagePullPolicy: IfNotPresent, command: [echo, done]}]
YAML
k rollout status deployment/web --timeout=120s >/dev/null
k wait --for=condition=Ready pod/once --timeout=120s >/dev/null
k wait --for=condition=complete job/quick --timeout=120s >/dev/null
k wait --for=condition=Ready pod -l job-name=long --timeout=120s >/dev/null
k wait --for=condition=Ready pod/stranger --timeout=120s >/dev/null

ready_of_node() { k get node "$ORCH_NODE_NAME" -o jsonpath='{range .status.conditions[?(@.type=="Ready")]}{.status} {.reason}: {.message}{end}' 2>/dev/null || echo "(no answer)"; }
nodeport() { curl -s -m 2 -o /dev/null -w '%{http_code}' "http://$ORCH_NODE_ADDRESS:$node_port/" 2>/dev/null || true; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pods() { k get pods -o custom-columns='NAME:.metadata.name,PHASE:.status.phase,READY:.status.containerStatuses[0].ready,RESTARTS:.status.containerStatuses[0].restartCount,IP:.status.podIP' --no-headers 2>/dev/null | sort; }
recovered() { # every running pod ready again, the Deployment 2/2, the Node Ready and the NodePort answering
  [ "$(ready_of_node | cut -d' ' -f1)" = True ] || return 1
  [ "$(k get deployment web -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 2 ] || return 1
  [ "$(k get pods -l job-name=long -o jsonpath='{.items[*].status.containerStatuses[0].ready}' 2>/dev/null)" = true ] || return 1
  [ "$(nodeport)" = 200 ]
}

# From inside the pods: cluster DNS, the Service's ClusterIP (the node's proxy), and a web pod's own IP directly (the
# pod bridge, where the NetworkPolicy's iptables rules apply: allowed from the Job's pod, dropped from the stranger).
# (HTTP by nc: the status line as the server sent it.)
http_from() { # pod host → the status line, or nothing
  k exec "$1" -- sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $2 80 2>/dev/null | head -n 1" 2>/dev/null | tr -d '\r'
}
from_pods() {
  local long web_ip answer
  long=$(k get pods -l job-name=long -o jsonpath='{.items[0].metadata.name}')
  web_ip=$(k get pods -l app=web -o jsonpath='{.items[0].status.podIP}')
  say "  from $long: DNS web.default.svc: $(k exec "$long" -- nslookup web.default.svc.cluster.local 2>&1 | grep -c '^Address.*172' || true) answer(s);" \
    "ClusterIP http://web: $(http_from "$long" web || true); pod IP $web_ip: $(http_from "$long" "$web_ip" || true)"
  answer=$(http_from stranger "$web_ip" || true)
  say "  from stranger: pod IP $web_ip (the policy drops it): ${answer:-no answer (dropped)}"
  say "  iptables FORWARD: $(iptables -S FORWARD | grep -n -- '-j ORCH-NP-' | tr '\n' ' ')(of $(iptables -S FORWARD | grep -c -- '^-A')); policy chains: $(iptables -S | grep -c -- '^-N ORCH-NP-')"
}

say "$(ts) baseline (node pid $node_pid; load $(cut -d' ' -f1 /proc/loadavg)):"
pods | sed 's/^/  /'
say "  endpoints: $(k get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[*].endpoints[*].addresses[0]}')"
say "  NodePort: $(nodeport)   Node Ready: $(ready_of_node)"
from_pods

hz=$(getconf CLK_TCK)
renewed_at() { k get lease -n kube-node-lease "$ORCH_NODE_NAME" -o jsonpath='{.spec.renewTime}' 2>/dev/null || true; }
web_ready() { k get pods -l app=web -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}' 2>/dev/null || true; }
# the node's containers by id, name and start time: the same list before and after a freeze means nothing was restarted
# or made twice
node_containers() { docker ps -a --no-trunc --filter "label=io.orchestrator.node=$ORCH_NODE_NAME" --format '{{.ID}} {{.Names}} {{.State}}' | sort; }
master_log="$ORCH_STATE_DIR/logs/master.log"

freeze_round() { # seconds
  local freeze=$1 lines_before cpu_before master_before dockerd_pid stop_at cont_at="" not_ready_at="" ready_at=""
  local renewals=0 last_renew renew cond samples=0 np np_ok=0 np_total=0 before after deadline
  say ""
  say "== round: dockerd frozen (SIGSTOP) for ${freeze}s =="
  lines_before=$(wc -l <"$node_log") cpu_before=$(cpu_ticks "$node_pid") master_before=$(wc -l <"$master_log")
  dockerd_pid=$(cat /var/run/docker.pid 2>/dev/null || pgrep -xo dockerd || true)
  [ -n "$dockerd_pid" ] || die "no dockerd runs"
  before=$(node_containers)
  last_renew=$(renewed_at)
  frozen_pid=$dockerd_pid
  kill -STOP "$dockerd_pid"
  stop_at=$EPOCHSECONDS
  say "$(ts) SIGSTOP to dockerd (pid $dockerd_pid); its $(echo "$before" | wc -l) containers of this node run on"
  deadline=$((stop_at + freeze + 300))
  while [ "$EPOCHSECONDS" -lt "$deadline" ]; do
    if [ -z "$cont_at" ] && [ "$EPOCHSECONDS" -ge $((stop_at + freeze)) ]; then
      continue_dockerd
      cont_at=$EPOCHSECONDS
      say "$(ts) SIGCONT to dockerd after $((cont_at - stop_at))s"
    fi
    cond=$(ready_of_node) renew=$(renewed_at) np=$(nodeport)
    if [ -z "$cont_at" ]; then
      [ -n "$renew" ] && [ "$renew" != "$last_renew" ] && renewals=$((renewals + 1))
      np_total=$((np_total + 1)); [ "$np" = 200 ] && np_ok=$((np_ok + 1))
      [ -z "$not_ready_at" ] && [ "${cond%% *}" = False ] && not_ready_at=$EPOCHSECONDS
    fi
    [ -n "$renew" ] && last_renew=$renew
    say "$(ts) +$((EPOCHSECONDS - stop_at))s node: ${cond:0:90} | lease $renew | NodePort $np | web Ready: $(web_ready)| log+$(( $(wc -l <"$node_log") - lines_before ))"
    if [ -n "$cont_at" ] && [ "${cond%% *}" = True ] && recovered; then ready_at=$EPOCHSECONDS; break; fi
    sleep 2
  done
  sleep 12 # a sync round and more after Ready: what the pods' supervisors do once they sync again
  after=$(node_containers)
  say "$(ts) summary: NotReady $([ -n "$not_ready_at" ] && echo "seen $((not_ready_at - stop_at))s after the SIGSTOP" || echo "not seen while frozen");" \
    "$renewals Lease renewals seen while frozen ($(( (cont_at - stop_at) ))s);" \
    "NodePort answered 200 to $np_ok of $np_total requests while frozen;" \
    "Ready again $([ -n "$ready_at" ] && echo "$((ready_at - cont_at))s after the SIGCONT" || echo "NOT within 300 s");" \
    "node containers $([ "$before" = "$after" ] && echo "the same $(echo "$after" | wc -l) (none restarted or added)" || echo "CHANGED");" \
    "master: $(tail -n +"$((master_before + 1))" "$master_log" | grep -c 'stopped posting status' || true) 'stopped posting status' lines;" \
    "node log +$(( $(wc -l <"$node_log") - lines_before )) lines; node CPU $(( ($(cpu_ticks "$node_pid") - cpu_before) / hz ))s; load $(cut -d' ' -f1 /proc/loadavg)"
  [ "$before" = "$after" ] || diff <(echo "$before") <(echo "$after") | sed 's/^/  /' || true
  pods | sed 's/^/  /'
}

for down in "${rounds[@]}"; do
  if [[ "$down" == freeze:* ]]; then freeze_round "${down#freeze:}"; continue; fi
  say ""
  say "== round: dockerd down for ${down}s =="
  lines_before=$(wc -l <"$node_log") cpu_before=$(cpu_ticks "$node_pid")
  dockerd_pid=$(cat /var/run/docker.pid 2>/dev/null || pgrep -xo dockerd || true)
  [ -n "$dockerd_pid" ] || die "no dockerd runs"
  stop_at=$EPOCHSECONDS
  say "$(ts) SIGTERM to dockerd (pid $dockerd_pid)"
  kill -TERM "$dockerd_pid"
  started=0 gone=0 not_ready_at="" ready_at="" deadline=$((EPOCHSECONDS + 90 + down + 300))
  while [ "$EPOCHSECONDS" -lt "$deadline" ]; do
    # (dockerd stops its containers first, about 12 s here; the down time counts from its exit)
    if [ $gone -eq 0 ] && ! process_alive "$dockerd_pid"; then
      gone=$EPOCHSECONDS
      say "$(ts) dockerd gone after $((gone - stop_at))s"
    fi
    [ $gone -ne 0 ] || [ "$EPOCHSECONDS" -lt $((stop_at + 90)) ] || die "dockerd (pid $dockerd_pid) did not exit within 90 s"
    if [ $started -eq 0 ] && [ $gone -ne 0 ] && [ "$EPOCHSECONDS" -ge $((gone + down)) ]; then
      say "$(ts) starting dockerd"
      ensure_docker
      started=$EPOCHSECONDS
      say "$(ts) dockerd answers (pid $(cat /var/run/docker.pid 2>/dev/null))"
    fi
    cond=$(ready_of_node)
    [ -z "$not_ready_at" ] && [ "${cond%% *}" = False ] && not_ready_at=$EPOCHSECONDS
    alive=yes; process_alive "$node_pid" || alive=NO
    say "$(ts) node: ${cond:0:110} | NodePort $(nodeport) | node pid $node_pid alive=$alive cpu=$(( ($(cpu_ticks "$node_pid") - cpu_before) / hz ))s log+$(( $(wc -l <"$node_log") - lines_before ))"
    if [ $started -ne 0 ] && recovered; then ready_at=$EPOCHSECONDS; break; fi
    sleep 2
  done
  say "$(ts) summary: NotReady seen $([ -n "$not_ready_at" ] && echo "$((not_ready_at - stop_at))s after the SIGTERM" || echo never) (sampled every 2-3 s);" \
    "recovered $([ -n "$ready_at" ] && echo "$((ready_at - started))s after dockerd answered" || echo "NOT within 300 s");" \
    "node process $(process_alive "$node_pid" && echo "still pid $node_pid" || echo "EXITED");" \
    "node log +$(( $(wc -l <"$node_log") - lines_before )) lines ($(tail -n +"$((lines_before + 1))" "$node_log" | grep -c ' warn\|WARN\|Warning' || true) warnings);" \
    "node CPU $(( ($(cpu_ticks "$node_pid") - cpu_before) / hz ))s; load $(cut -d' ' -f1 /proc/loadavg)"
  pods | sed 's/^/  /'
  say "  endpoints: $(k get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[*].endpoints[*].addresses[0]}')"
  from_pods
done

say ""
say "$(ts) events (SandboxChanged, Killing, Started, NodeNotReady …):"
k get events --sort-by=.lastTimestamp -o custom-columns='LAST:.lastTimestamp,COUNT:.count,REASON:.reason,OBJECT:.involvedObject.name,MESSAGE:.message' --no-headers \
  | grep -E 'SandboxChanged|Killing|Started|NodeNotReady|NodeReady|FailedSync|FailedCreatePodSandBox|BackOff|Failed' | tail -40 | sed 's/^/  /'
web=$(k get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
say "$(ts) kubectl exec stranger -- hostname: $(k exec stranger -- hostname 2>&1 | head -1)"
say "$(ts) kubectl logs $web --tail=2: $(k logs "$web" --tail=2 2>&1 | tr '\n' ' ')"
say "$(ts) kubectl logs $web --previous --tail=1: $(k logs "$web" --previous --tail=1 2>&1 | tr '\n' ' ')"
say "$(ts) node log, the warnings of the drill (distinct, with counts):"
tail -n +"$((node_log_start + 1))" "$node_log" | grep -E 'WARN|warn|ERROR|fail' | sed -E 's/^[^ ]+ //; s/[0-9a-f]{12,64}/<id>/g; s/[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/<ip>/g' | sort | uniq -c | sort -rn | head -25 | sed 's/^/  /'

# containers of others that were running before and did not come back with dockerd (no restart policy)
if [ -n "$running_before" ]; then
  for c in $running_before; do
    [ "$(docker inspect -f '{{.State.Running}}' "$c" 2>/dev/null)" = true ] || docker start "$c" >/dev/null 2>&1 || true
  done
fi
say "$(ts) done; the cluster goes down (deploy/down.sh --purge)"
