#!/usr/bin/env bash
# Proxy benchmark: requests/s and p50/p99 latency with wrk through a NodePort and a ClusterIP (forwarded at L4 per
# connection: the ports have no appProtocol), through a NodePort whose appProtocol is http (YARP, per request) and
# through an Ingress (class orchestrator: the node's ingress listener, YARP) against direct requests to the
# container's published port, for 1 and 3 replicas, measured in the same run; then two deaths under a steady request stream: a pod's
# container killed (the node restarts it in its pod), and a pod deleted (`kubectl delete pod`): the time until no
# request is sent to the deleted pod, and the requests lost; then one selector-less Service with 1,000 endpoints
# (1,000 extra addresses of one server pod) against the same Service with 1 endpoint, the time from writing the
# 1,000 endpoints until the proxy routes connections to them, and how connections spread over the 1,000 addresses.
# Brings up a private cluster (own state dir, ports, node name) and takes it down at the end. Holds the machine's
# E2E lock while it runs (the cluster serves ClusterIPs and DNS on the shared pod bridge).
#   bench/proxy/run.sh            # DURATION=10 CONNECTIONS=16 THREADS=2 to change the load
# PARTS="replicas deaths many" (the default: all) runs only the named parts; ORCH_BUILD_DIR=<dir> runs the build in
# <dir> (built there from this tree when missing or older than the sources); PERF=<file> records a perf profile
# (call graphs, .NET frames named through DOTNET_PerfMapEnabled) of the node process during the 1-replica NodePort run
# (<file>.http during the 1-replica nodeport-http run, <file>.many during the 1,000-endpoint run).
# The master and the node run as two processes (ORCH_ONE_PROCESS=0, not deploy/up.sh's default of one): the node's CPU
# per request, its perf counters and profile are of the node's process alone (node.pid), as in the figures before
# one process became the default. ORCH_ONE_PROCESS=1 measures the one process, its master's share included.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export ORCH_STATE_DIR="${ORCH_STATE_DIR:-/tmp/orchestrator-bench-proxy}" ORCH_API_PORT=36443 ORCH_CLUSTER_PORT=34050
export ORCH_NODE_NAME=bench-proxy-node ORCH_CONTEXT=bench-proxy ORCH_HEALTHZ_PORT=30248
# not 80/443, 127.0.100.0/24 nor /usr/local/bin/orchctl, which a hand-started cluster holds
export ORCH_INGRESS_HTTP_PORT=36080 ORCH_INGRESS_HTTPS_PORT=36843 ORCH_LOAD_BALANCER_POOL=127.0.102.0/24
export ORCH_BIN_DIR="$ORCH_STATE_DIR/path"
export ORCH_ONE_PROCESS="${ORCH_ONE_PROCESS:-0}"
export KUBECONFIG="$ORCH_STATE_DIR/kubeconfig"
source "$here/../../deploy/lib/common.sh"
DURATION="${DURATION:-10}" CONNECTIONS="${CONNECTIONS:-16}" THREADS="${THREADS:-2}"
PARTS="${PARTS:-replicas deaths many}" PERF="${PERF:-}"
part() { [[ " $PARTS " == *" $1 "* ]]; }
# W^X off: with it JIT code runs from a memfd mapping perf cannot name from the perf map
[ -z "$PERF" ] || export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
NODE_PORT=31990 MANY_PORT=31991 HTTP_PORT=31992 INGRESS_PORT=$ORCH_INGRESS_HTTP_PORT

if [ -z "${BENCH_LOCKED:-}" ]; then
  exec env BENCH_LOCKED=1 flock /tmp/orchestrator-e2e.lock "$0" "$@"
fi
ensure_packages wrk curl iproute2 iptables util-linux
mkdir -p "$ORCH_STATE_DIR"
echo "nameserver 127.0.0.78" > "$ORCH_STATE_DIR/resolv.conf"   # no upstream: the benchmark resolves nothing outside
export ORCH_RESOLV_CONF="$ORCH_STATE_DIR/resolv.conf"
extra_route=""   # the host's route to the 1,000-endpoint addresses, while the script holds it
cleanup() {
  [ -z "$extra_route" ] || ip route del $extra_route 2>/dev/null || true
  "$ORCH_ROOT/deploy/down.sh" --purge >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$ORCH_ROOT/deploy/up.sh" >/dev/null
k() { kubectl --context "$ORCH_CONTEXT" "$@"; }

k create deployment bench --image=katacoda/docker-http-server:latest --port=80 >/dev/null
k create service nodeport bench --tcp=80:80 --node-port=$NODE_PORT >/dev/null
# the same pods behind a port whose appProtocol is http: the proxy forwards each request through YARP (per-request
# balancing, health checks), instead of each connection at L4 as kube-proxy (and the proxy for other ports) does
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: { name: bench-http }
spec:
  type: NodePort
  selector: { app: bench }
  ports: [{ name: http, port: 80, targetPort: 80, nodePort: $HTTP_PORT, appProtocol: http }]
YAML
# the same Service through the ingress controller: a rule without host, so wrk needs no Host header
k apply -f - >/dev/null <<'YAML'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: bench }
spec:
  ingressClassName: orchestrator
  rules:
  - http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: bench, port: { number: 80 } } } }] }
YAML

wait_replicas() { # n
  for _ in $(seq 1 120); do
    [ "$(k get endpoints bench -o jsonpath='{.subsets[*].addresses[*].ip}' | wc -w)" -eq "$1" ] && return 0
    sleep 0.5
  done
  die "bench did not reach $1 ready endpoints"
}

wait_http() { # url what: until the URL answers with the demo page
  for _ in $(seq 1 120); do
    curl -sf -m 2 "$1" 2>/dev/null | grep -q 'processed by host' && return 0
    sleep 0.5
  done
  die "$2 did not answer on $1 within 60 s"
}

# one wrk run → "rps p50_ms p99_ms errors" (errors: socket errors and non-2xx/3xx answers)
measure() { # url
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Socket errors/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx/ { errors += $5 }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, errors }'
}
row() { printf '%-9s %-11s %10s %9s %9s %7s %s\n' "$@"; }
# the node process's CPU time (user + system, clock ticks → ms): CPU per request is less noisy than requests/s
node_cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f\n", ($14 + $15) * 1000 / hz }' "/proc/$(cat "$ORCH_STATE_DIR/node.pid")/stat"; }
# measure through the node: "rps p50_ms p99_ms errors node_cpu_us_per_request syscalls_per_request
# context_switches_per_request" (the last two counted by `perf stat` on the node's threads: what the proxy asks of the
# kernel per request, which the machine's other load does not change as it changes CPU time; "-" without perf)
measure_node() { # url [perf-file]
  local before after result perf_pid="" stat_pid="" stat_file node_pid
  node_pid=$(cat "$ORCH_STATE_DIR/node.pid")
  stat_file=$(mktemp)
  before=$(node_cpu_ms)
  if [ -n "${2:-}" ]; then
    perf record -F 999 -g -o "$2" -p "$node_pid" >/dev/null 2>&1 & perf_pid=$!
  fi
  if command -v perf >/dev/null; then
    perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$node_pid" -o "$stat_file" >/dev/null 2>&1 & stat_pid=$!
  fi
  result=$(measure "$1")
  [ -z "$perf_pid" ] || { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
  [ -z "$stat_pid" ] || { kill -INT "$stat_pid"; wait "$stat_pid" || true; }
  after=$(node_cpu_ms)
  awk -F, -v r="$result" -v c=$((after - before)) -v d="$DURATION" '
    $3 ~ /sys_enter/ { sys = $1 } $3 ~ /context-switches/ { cs = $1 }
    END { split(r, f, " "); n = f[1] * d
          printf "%s %.1f %s %s\n", r, c * 1000 / n, sys == "" ? "-" : sprintf("%.1f", sys / n), cs == "" ? "-" : sprintf("%.1f", cs / n) }' "$stat_file"
  rm -f "$stat_file"
}
ratio() { # label n_rps d_rps n_p50 d_p50 n_p99 d_p99
  awk -v l="$1" -v n="$2" -v d="$3" -v np="$4" -v dp="$5" -v n9="$6" -v d9="$7" \
    'BEGIN { printf "ratio     %s: throughput %.2f, p50 latency %.2fx, p99 latency %.2fx\n", l, n / d, np / dp, n9 / d9 }'
}

# issue 19's goal: through the proxy ≥ 0.85× direct's requests/s at 1 replica, ≥ 1.0× at 3, p99 ≤ direct's + 1 ms
goal() { # replicas path n_rps d_rps n_p99 d_p99
  awk -v r="$1" -v p="$2" -v n="$3" -v d="$4" -v n9="$5" -v d9="$6" 'BEGIN {
    want = (r == 1) ? 0.85 : 1.0; ok = (n / d >= want) && (n9 <= d9 + 1)
    printf "goal      %s, %s replica(s): ≥ %.2fx direct req/s and p99 ≤ direct + 1 ms (%.2f ms): %.2fx, p99 %.2f ms: %s\n",
      p, r, want, d9 + 1, n / d, n9, ok ? "met" : "not met" }'
}

echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min), $(nproc) cores"
part replicas && row replicas path req/s p50_ms p99_ms errors "node_cpu_us/req syscalls/req ctxsw/req"
for replicas in 1 3; do
  part replicas || break
  k scale deployment bench --replicas=$replicas >/dev/null
  wait_replicas $replicas
  # a pod's ports are published by its sandbox, which holds the pod's network
  direct_pod=$(k get pods -l app=bench -o jsonpath='{.items[0].metadata.name}')
  sandbox=$(docker ps -q --filter "label=io.orchestrator.node=$ORCH_NODE_NAME" --filter label=io.orchestrator.role=sandbox \
    --filter "label=io.orchestrator.pod.name=$direct_pod" | head -1)
  direct_port=$(docker port "$sandbox" 80/tcp | head -1 | sed 's/.*://')
  wait_http "http://127.0.0.1:$NODE_PORT/" "the NodePort"       # also warms the proxy's connection pool
  wait_http "http://127.0.0.1:$INGRESS_PORT/" "the Ingress"
  wait_http "http://127.0.0.1:$HTTP_PORT/" "the HTTP NodePort"
  cluster_ip=$(k get service bench -o jsonpath='{.spec.clusterIP}')
  wait_http "http://$cluster_ip/" "the ClusterIP"
  # not measured: the proxy's first seconds under load run unoptimised (.NET tiered JIT) code
  for url in "http://127.0.0.1:$NODE_PORT/" "http://127.0.0.1:$INGRESS_PORT/" "http://$cluster_ip/" "http://127.0.0.1:$HTTP_PORT/"; do
    wrk -t1 -c4 -d3s "$url" >/dev/null
  done
  read -r d_rps d_p50 d_p99 d_err < <(measure "http://127.0.0.1:$direct_port/")
  perf_file=""; [ -z "$PERF" ] || [ "$replicas" != 1 ] || perf_file=$PERF
  read -r n_rps n_p50 n_p99 n_err n_cpu < <(measure_node "http://127.0.0.1:$NODE_PORT/" "$perf_file")
  read -r i_rps i_p50 i_p99 i_err i_cpu < <(measure_node "http://127.0.0.1:$INGRESS_PORT/")
  row "$replicas" direct "$d_rps" "$d_p50" "$d_p99" "$d_err"
  row "$replicas" nodeport "$n_rps" "$n_p50" "$n_p99" "$n_err" "$n_cpu"
  read -r c_rps c_p50 c_p99 c_err c_cpu < <(measure_node "http://$cluster_ip/")
  read -r h_rps h_p50 h_p99 h_err h_cpu < <(measure_node "http://127.0.0.1:$HTTP_PORT/" "${perf_file:+$perf_file.http}")
  row "$replicas" ingress "$i_rps" "$i_p50" "$i_p99" "$i_err" "$i_cpu"
  row "$replicas" clusterip "$c_rps" "$c_p50" "$c_p99" "$c_err" "$c_cpu"
  row "$replicas" nodeport-http "$h_rps" "$h_p50" "$h_p99" "$h_err" "$h_cpu"
  ratio "$replicas replica(s) nodeport/direct" "$n_rps" "$d_rps" "$n_p50" "$d_p50" "$n_p99" "$d_p99"
  goal "$replicas" nodeport "$n_rps" "$d_rps" "$n_p99" "$d_p99"
  ratio "$replicas replica(s) ingress/direct " "$i_rps" "$d_rps" "$i_p50" "$d_p50" "$i_p99" "$d_p99"
  ratio "$replicas replica(s) clusterip/direct" "$c_rps" "$d_rps" "$c_p50" "$d_p50" "$c_p99" "$d_p99"
  goal "$replicas" clusterip "$c_rps" "$d_rps" "$c_p99" "$d_p99"
  ratio "$replicas replica(s) nodeport-http/direct" "$h_rps" "$d_rps" "$h_p50" "$d_p50" "$h_p99" "$d_p99"
  goal "$replicas" nodeport-http "$h_rps" "$d_rps" "$h_p99" "$d_p99"
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

if part deaths; then
k scale deployment bench --replicas=3 >/dev/null
wait_replicas 3
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
echo "pod death: backend $victim_ip out of service ${withdrawn:-(not within 10 s)} ms after the kill: ${how:-?} (connections meanwhile fell through to other pods)"

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
fi
if part many; then
# 1,000 endpoints: one server pod answers on 1,000 extra addresses (added to its eth0 as /32s), listed by hand in the Endpoints of a selector-less NodePort Service. The addresses are in
# 172.28.120.0/22, the top of the default pod range 172.28.0.0/17: the node hands pod IPs out round robin from the
# bottom, the lab's nodes use 172.28.<n>.0/24 with small n, so nothing else takes them during the run.
# The proxy reads a Service's Endpoints (the EndpointSlices are mirrored from them), so the Endpoints are written.
extra_addresses() { for c in 120 121 122 123; do for d in $(seq 1 250); do echo "172.28.$c.$d"; done; done; }
late_address=172.28.123.250
k run many --image=katacoda/docker-http-server:latest --port=80 >/dev/null
k wait --for=condition=Ready pod/many --timeout=120s >/dev/null || die "pod many did not become ready"
many_ip=$(k get pod many -o jsonpath='{.status.podIP}')
many_sandbox=$(docker ps -q --filter "label=io.orchestrator.node=$ORCH_NODE_NAME" --filter label=io.orchestrator.role=sandbox \
  --filter label=io.orchestrator.pod.name=many | head -1)
many_pid=$(docker inspect -f '{{.State.Pid}}' "$many_sandbox")
in_pod() { nsenter -t "$many_pid" -n "$@"; }
taken=$(docker network inspect orchestrator -f '{{range .Containers}}{{.IPv4Address}} {{end}}' | tr ' ' '\n' | grep -c '^172\.28\.12[0-3]\.' || true)
[ "$taken" -eq 0 ] || die "$taken container(s) on the pod network already use 172.28.120.0/22"
extra_addresses | sed 's|.*|addr add &/32 dev eth0|' | in_pod ip -batch -
# The host reaches them through the pod's own address (one neighbour entry), as a node routes a pod CIDR: 1,000
# neighbour entries on the bridge would pass the kernel's garbage-collection threshold (gc_thresh2 512) and come near
# its hard limit (gc_thresh3 1024), which would measure ARP churn rather than the proxy.
[ -z "$(ip route show 172.28.120.0/22)" ] || die "the host already has a route for 172.28.120.0/22"
ip route add 172.28.120.0/22 via "$many_ip" dev orch0
extra_route="172.28.120.0/22 via $many_ip dev orch0"
# every address must answer, or the balance figures below would count failures
answering=$(extra_addresses | xargs -P 8 -I{} curl -s -m 2 "http://{}/" | grep -c 'processed by host' || true)
[ "$answering" -eq 1000 ] || die "only $answering of the 1,000 extra addresses answer"

endpoints_yaml() { # addresses...
  printf 'apiVersion: v1\nkind: Endpoints\nmetadata: { name: many }\nsubsets:\n- addresses:\n'
  printf '  - ip: %s\n' "$@"
  printf '  ports: [{ name: http, port: 80 }]\n'
}
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: { name: many }
spec:
  type: NodePort
  ports: [{ name: http, port: 80, targetPort: 80, nodePort: $MANY_PORT }]
YAML
endpoints_yaml "$many_ip" | k create -f - >/dev/null
many_file="$ORCH_STATE_DIR/endpoints-1000.yaml"
# shellcheck disable=SC2046
endpoints_yaml $(extra_addresses) > "$many_file"
wait_http "http://127.0.0.1:$MANY_PORT/" "the 1-endpoint Service"

row endpoints path req/s p50_ms p99_ms errors "node_cpu_us/req syscalls/req ctxsw/req"
read -r d_rps d_p50 d_p99 d_err < <(measure "http://$many_ip/")
read -r o_rps o_p50 o_p99 o_err o_cpu < <(measure_node "http://127.0.0.1:$MANY_PORT/")
row 1 direct "$d_rps" "$d_p50" "$d_p99" "$d_err"
row 1 nodeport "$o_rps" "$o_p50" "$o_p99" "$o_err" "$o_cpu"

# Routed = a request sent through the NodePort reaches one of the new addresses: the pod's iptables count the
# packets to an address other than the old endpoint that carry the probe's request line.
in_pod iptables -I INPUT -p tcp --dport 80 ! -d "$many_ip" -m string --algo bm --string "GET /routed-probe " -j ACCEPT
probe_hits() { in_pod iptables -L INPUT -v -x -n | awk '/routed-probe/ { print $1; exit }'; }
write_started=$(date +%s%3N)
k replace -f "$many_file" >/dev/null
written=$(date +%s%3N)
routed="" probes=0
while [ $(( $(date +%s%3N) - written )) -lt 30000 ]; do
  sent=$(date +%s%3N)
  curl -s -m 2 -o /dev/null "http://127.0.0.1:$MANY_PORT/routed-probe"
  probes=$((probes + 1))
  if [ "$(probe_hits)" -gt 0 ]; then routed=$sent; break; fi
done
in_pod iptables -D INPUT -p tcp --dport 80 ! -d "$many_ip" -m string --algo bm --string "GET /routed-probe " -j ACCEPT
stored=$(k get endpoints many -o jsonpath='{.subsets[*].addresses[*].ip}' | wc -w)
[ -n "$routed" ] || die "the proxy did not route to the 1,000 endpoints within 30 s (the API holds $stored addresses)"

read -r m_rps m_p50 m_p99 m_err m_cpu < <(measure_node "http://127.0.0.1:$MANY_PORT/" "${PERF:+$PERF.many}")
row 1000 nodeport "$m_rps" "$m_p50" "$m_p99" "$m_err" "$m_cpu"
ratio "1000/1 endpoint(s) through the nodeport" "$m_rps" "$o_rps" "$m_p50" "$o_p50" "$m_p99" "$o_p99"
echo "1000 endpoints: the write (kubectl replace, $stored addresses stored) took $((written - write_started)) ms;" \
  "routed to the new addresses: probe $probes, sent $((routed - written)) ms after it returned ($((routed - write_started)) ms after it started), reached one"

# The spread: a short wrk run with its own request line, counted per destination address by the pod's iptables
# (one counting rule per address, in a chain only the probe's packets enter; none of it existed during the runs above).
# A connection per request (Connection: close): the port is balanced per connection.
{ echo '*filter'; echo ':SPREAD - [0:0]'
  extra_addresses | sed 's|.*|-A SPREAD -d &/32 -j RETURN|'
  echo '-I INPUT -p tcp --dport 80 -m string --algo bm --string "GET /spread-probe " -j SPREAD'; echo COMMIT; } | in_pod iptables-restore --noflush
wrk -t1 -c4 -d3s -H 'Connection: close' "http://127.0.0.1:$MANY_PORT/spread-probe" >/dev/null
in_pod iptables -L SPREAD -v -x -n | awk -v late="$late_address" '
  $3 == "RETURN" { n++; total += $1; if ($1 > 0) hit++; if (min == "" || $1 < min) min = $1; if ($1 > max) max = $1; if ($9 == late) lastn = $1 }
  END { printf "1000 endpoints: %d requests over %d addresses: %d received some (min %d, max %d per address); the last-listed address %s got %d\n", total, n, hit, min, max, late, lastn }'

fi
echo "reproduce: bench/proxy/run.sh   (DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS PARTS=\"$PARTS\")"
