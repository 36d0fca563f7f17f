#!/usr/bin/env bash
# Proxy benchmark: requests/s and p50/p99 latency with wrk through a NodePort (the node's YARP proxy) against
# direct requests to the container's published port, for 1 and 3 replicas, measured in the same run; then two
# deaths under a steady request stream: a pod's container killed (the node restarts it in its pod), and a pod
# deleted (`kubectl delete pod`): the time until no request is sent to the deleted pod, and the requests lost.
# Brings up a private cluster (own state dir, ports, node name) and takes it down at the end. Holds the machine's
# E2E lock while it runs (the cluster serves ClusterIPs and DNS on the shared pod bridge).
#   bench/proxy/run.sh            # DURATION=10 CONNECTIONS=16 THREADS=2 to change the load
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export ORCH_STATE_DIR="${ORCH_STATE_DIR:-/tmp/orchestrator-bench-proxy}" ORCH_API_PORT=36443 ORCH_CLUSTER_PORT=34050
export ORCH_NODE_NAME=bench-proxy-node ORCH_CONTEXT=bench-proxy ORCH_HEALTHZ_PORT=30248
export KUBECONFIG="$ORCH_STATE_DIR/kubeconfig"
source "$here/../../deploy/lib/common.sh"
DURATION="${DURATION:-10}" CONNECTIONS="${CONNECTIONS:-16}" THREADS="${THREADS:-2}"
NODE_PORT=31990

if [ -z "${BENCH_LOCKED:-}" ]; then
  exec env BENCH_LOCKED=1 flock /tmp/orchestrator-e2e.lock "$0" "$@"
fi
ensure_packages wrk curl
mkdir -p "$ORCH_STATE_DIR"
echo "nameserver 127.0.0.78" > "$ORCH_STATE_DIR/resolv.conf"   # no upstream: the benchmark resolves nothing outside
export ORCH_RESOLV_CONF="$ORCH_STATE_DIR/resolv.conf"
trap '"$ORCH_ROOT/deploy/down.sh" --purge >/dev/null 2>&1 || true' EXIT
"$ORCH_ROOT/deploy/up.sh" >/dev/null
k() { kubectl --context "$ORCH_CONTEXT" "$@"; }

k create deployment bench --image=katacoda/docker-http-server:latest --port=80 >/dev/null
k create service nodeport bench --tcp=80:80 --node-port=$NODE_PORT >/dev/null

wait_replicas() { # n
  for _ in $(seq 1 120); do
    [ "$(k get endpoints bench -o jsonpath='{.subsets[*].addresses[*].ip}' | wc -w)" -eq "$1" ] && return 0
    sleep 0.5
  done
  die "bench did not reach $1 ready endpoints"
}

# one wrk run → "rps p50_ms p99_ms"
measure() { # url
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    END { printf "%.0f %.2f %.2f\n", rps, p50, p99 }'
}

printf '%-9s %-10s %10s %9s %9s\n' replicas path req/s p50_ms p99_ms
for replicas in 1 3; do
  k scale deployment bench --replicas=$replicas >/dev/null
  wait_replicas $replicas
  # a pod's ports are published by its sandbox, which holds the pod's network
  sandbox=$(docker ps -q --filter "label=io.orchestrator.node=$ORCH_NODE_NAME" --filter label=io.orchestrator.role=sandbox | head -1)
  direct_port=$(docker port "$sandbox" 80/tcp | head -1 | sed 's/.*://')
  curl -sf "127.0.0.1:$NODE_PORT/" >/dev/null   # warm the proxy's connection pool
  read -r d_rps d_p50 d_p99 < <(measure "http://127.0.0.1:$direct_port/")
  read -r n_rps n_p50 n_p99 < <(measure "http://127.0.0.1:$NODE_PORT/")
  printf '%-9s %-10s %10s %9s %9s\n' "$replicas" direct "$d_rps" "$d_p50" "$d_p99"
  printf '%-9s %-10s %10s %9s %9s\n' "$replicas" nodeport "$n_rps" "$n_p50" "$n_p99"
  awk -v n="$n_rps" -v d="$d_rps" -v np="$n_p50" -v dp="$d_p50" -v r="$replicas" \
    'BEGIN { printf "ratio     %d replica(s): nodeport/direct throughput %.2f, p50 latency %.2fx\n", r, n / d, np / dp }'
done

# A steady stream for 8 s (one request every ~10 ms through the NodePort): "time_ms http_code serving_pod" a line.
start_stream() { # log file
  : > "$1"
  ( end=$(( $(date +%s%3N) + 8000 ))
    while [ "$(date +%s%3N)" -lt "$end" ]; do
      answer=$(curl -s -m 2 -w ' %{http_code}' "127.0.0.1:$NODE_PORT/" || echo " 000")
      host=$(sed -n 's/.*processed by host: \([^<]*\)<.*/\1/p' <<<"$answer")
      echo "$(date +%s%3N) ${answer##* } ${host:--}" >> "$1"
      sleep 0.01
    done ) &
  stream=$!
}

# pod death 1 → no failing request: one of 3 containers is killed
victim=$(docker ps --filter "label=io.orchestrator.node=$ORCH_NODE_NAME" --format '{{.ID}} {{.Label "io.orchestrator.role"}}' \
  | awk '$2 == "" { print $1; exit }')   # an app container, not a sandbox
log="$ORCH_STATE_DIR/stream.log"
start_stream "$log"
sleep 2
victim_pod=$(docker inspect -f '{{ index .Config.Labels "io.orchestrator.pod.name" }}' "$victim")
victim_container=$(docker inspect -f '{{ index .Config.Labels "io.orchestrator.container.name" }}' "$victim")
victim_ip=$(k get pod "$victim_pod" -o jsonpath='{.status.podIP}')   # its sandbox's address
victim_id=$(docker inspect -f '{{.Id}}' "$victim")
killed=$(date +%s%3N)
docker kill "$victim" >/dev/null
# the dead backend stops receiving requests when its endpoint is withdrawn (pod not ready) or when its pod's
# restarted container (a new one, possibly on the same IP) serves again
withdrawn="" how=""
for _ in $(seq 1 200); do
  if ! k get endpoints bench -o jsonpath='{.subsets[*].addresses[*].ip}' | tr ' ' '\n' | grep -qx "$victim_ip"; then
    withdrawn=$(( $(date +%s%3N) - killed )); how="endpoint withdrawn"; break
  fi
  replacement=$(docker ps -q --no-trunc --filter "label=io.orchestrator.pod.name=$victim_pod" \
    --filter "label=io.orchestrator.container.name=$victim_container" | grep -v "^$victim_id" | head -1 || true)
  if [ -n "$replacement" ]; then
    withdrawn=$(( $(date +%s%3N) - killed )); how="pod's container restarted in its sandbox on $victim_ip"; break
  fi
  sleep 0.05
done
wait $stream
awk -v k="$killed" '
  { total++ } $2 != "200" { failed++; if ($1 >= k) last = $1 }
  END {
    printf "pod death: %d requests in the stream, %d failed", total, failed
    if (last) printf "; last failure %d ms after the kill\n", last - k; else printf "; none failed after the kill\n"
  }' "$log"
echo "pod death: backend $victim_ip out of service ${withdrawn:-(not within 10 s)} ms after the kill: ${how:-?} (requests meanwhile were retried on other pods)"

# pod death 2 → a pod deleted with kubectl (graceful: its endpoint is withdrawn, then its container stopped)
wait_replicas 3
deleted_pod=$(k get pods -l app=bench -o jsonpath='{.items[0].metadata.name}')
log2="$ORCH_STATE_DIR/stream-delete.log"
start_stream "$log2"
sleep 2
deleted_at=$(date +%s%3N)
k delete pod "$deleted_pod" --wait=false >/dev/null
wait $stream
awk -v t="$deleted_at" -v pod="$deleted_pod" '
  { total++ } $2 != "200" { failed++ }
  $1 >= t && $3 == pod { last = $1 }
  $1 < t && $3 == pod { before++ }
  END {
    printf "pod deleted: %d requests in the stream, %d failed; %d served by %s before the delete, ", total, failed, before, pod
    if (last) printf "the last one it served came %d ms after the delete\n", last - t
    else printf "none after the delete\n"
  }' "$log2"
echo "reproduce: bench/proxy/run.sh   (DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS)"
