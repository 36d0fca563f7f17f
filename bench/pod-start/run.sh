#!/usr/bin/env bash
# Pod start latency: API create → Ready (kubectl apply of N pods at once, Ready seen through a watch) for 1, 10 and
# 50 pods, against the baseline measured in the same run: `docker run -d` of the same image, N at once, on the same
# Docker network with the same published port, until docker returns (the container runs). Prints per batch size
# the median and p99 of both and the ratio of the medians. Then one pod with a PersistentVolumeClaim (PVC_RUNS=5;
# 0 skips it) and one whose image is pulled from the cluster registry (PULL_RUNS=5; 0 skips it).
#
#   flock /tmp/orchestrator-e2e.lock bench/pod-start/run.sh     (the node's health port is fixed: do not overlap E2E)
#
# A private cluster (own state dir, ports, node name and kubeconfig) is brought up and purged at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export ORCH_STATE_DIR="$root/artifacts/bench-pod-start"
export ORCH_API_PORT=27443 ORCH_CLUSTER_PORT=27050 ORCH_CONTEXT=orchestrator-bench-pods ORCH_NODE_NAME=bench-pod-start
export KUBECONFIG="$ORCH_STATE_DIR/kubeconfig"
image="orchestrator/http-server:latest"
plan="${PLAN:-1:5 10:2 50:1}"    # batch size:repetitions
mkdir -p "$ORCH_STATE_DIR"
now_ms() { date +%s%3N; }
k() { kubectl --context "$ORCH_CONTEXT" "$@"; }

registry=127.0.0.1:27500          # the cluster registry of the pull run (deploy/lib/registry.sh)
pulled_image="$registry/bench-http-server:v1"
cleanup() {
  docker ps -aq --filter label=io.orchestrator.bench=pod-start | xargs -r docker rm -f >/dev/null 2>&1 || true
  "$root/deploy/lib/registry.sh" stop "$registry" >/dev/null 2>&1 || true
  docker rmi -f "$pulled_image" >/dev/null 2>&1 || true
  "$root/deploy/down.sh" --purge >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$root/deploy/down.sh" --purge >/dev/null
"$root/deploy/up.sh" >/dev/null

# stats: reads latencies (ms), prints "median p99"
stats() { sort -n | awk '{a[NR]=$1} END {m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; i = int(0.99*NR); if (i < 0.99*NR) i++; printf "%d %d\n", m, a[i]}'; }

pods_yaml() { # batch n [claim] — with claim, each pod mounts a claim of its own (local-path) at /data
  echo "apiVersion: v1"; echo "kind: List"; echo "items:"
  for i in $(seq 1 "$2"); do
    if [ -n "${3:-}" ]; then
      cat <<YAML
- apiVersion: v1
  kind: PersistentVolumeClaim
  metadata: { name: $1-$i-data, labels: { bench: "$1" } }
  spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 64Mi } } }
YAML
    fi
    cat <<YAML
- apiVersion: v1
  kind: Pod
  metadata: { name: $1-$i, labels: { bench: "$1" } }
  spec:
    terminationGracePeriodSeconds: 0
    containers:
    - name: web
      image: $image
      imagePullPolicy: IfNotPresent
      ports: [ { containerPort: 80 } ]
$( [ -n "${3:-}" ] && printf '      volumeMounts: [ { name: data, mountPath: /data } ]\n    volumes: [ { name: data, persistentVolumeClaim: { claimName: %s } } ]' "$1-$i-data" )
YAML
  done
}

cluster_batch() { # n [image] [claim] → latencies on stdout
  local n=$1 image=${2:-$image} batch="ps$(date +%s%N | tail -c 7)" events="$ORCH_STATE_DIR/watch.txt"
  pods_yaml "$batch" "$n" "${3:-}" >"$ORCH_STATE_DIR/pods.yaml"
  : >"$events"
  timeout 300 kubectl --context "$ORCH_CONTEXT" get pods -l "bench=$batch" --watch-only -o 'jsonpath={.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}' \
    | while read -r name ready; do echo "$(now_ms) $name $ready"; done >>"$events" &
  local watcher=$!
  sleep 1 # the watch is open
  local start; start=$(now_ms)
  k apply -f "$ORCH_STATE_DIR/pods.yaml" >/dev/null
  for _ in $(seq 1 1200); do
    [ "$(awk '$3 == "True" {print $2}' "$events" | sort -u | wc -l)" -ge "$n" ] && break
    sleep 0.1
  done
  kill "$watcher" 2>/dev/null || true # kubectl follows on its next write (SIGPIPE) or its timeout
  awk -v s="$start" '$3 == "True" && !seen[$2]++ {print $1 - s}' "$events"
  k delete pods -l "bench=$batch" --grace-period=0 --force --wait=false >/dev/null 2>&1
  [ -z "${3:-}" ] || k delete pvc -l "bench=$batch" --wait=false >/dev/null 2>&1
  for _ in $(seq 1 300); do
    [ -z "$(docker ps -aq --filter "label=io.orchestrator.pod.name=$batch-1" --filter "label=io.orchestrator.node=$ORCH_NODE_NAME")" ] && \
      [ -z "$(k get pods -l "bench=$batch" -o name)" ] && break
    sleep 0.2
  done
}

docker_batch() { # n → latencies on stdout
  local n=$1 start; start=$(now_ms)
  for i in $(seq 1 "$n"); do
    ( docker run -d --label io.orchestrator.bench=pod-start --network orchestrator -p 127.0.0.1::80 "$image" >/dev/null
      echo $(( $(now_ms) - start )) ) &
  done
  wait
  docker ps -aq --filter label=io.orchestrator.bench=pod-start | xargs -r docker rm -f >/dev/null
}

printf "%-6s %-22s %-22s %s\n" pods "create→Ready med/p99" "docker run med/p99" "ratio (medians)"
for entry in $plan; do
  n=${entry%%:*} reps=${entry##*:}
  cluster=() baseline=()
  for _ in $(seq 1 "$reps"); do
    mapfile -t -O "${#cluster[@]}" cluster < <(cluster_batch "$n")
    mapfile -t -O "${#baseline[@]}" baseline < <(docker_batch "$n")
  done
  [ "${#cluster[@]}" -eq $((n * reps)) ] || echo "warning: $(( n * reps - ${#cluster[@]} )) pods of $((n * reps)) never became Ready" >&2
  read -r cm cp < <(printf "%s\n" "${cluster[@]}" | stats)
  read -r dm dp < <(printf "%s\n" "${baseline[@]}" | stats)
  printf "%-6s %-22s %-22s %s\n" "$n" "${cm} / ${cp} ms" "${dm} / ${dp} ms" "$(awk -v a="$cm" -v b="$dm" 'BEGIN {printf "%.1fx", a / (b > 0 ? b : 1)}')"
  # issue 19's goal: create→Ready ≤ 1.15× docker run's (medians) for 1, 10 and 50 pods; for one pod also p99 ≤ 1 s
  awk -v n="$n" -v a="$cm" -v b="$dm" -v p="$cp" 'BEGIN { r = a / (b > 0 ? b : 1); ok = r <= 1.15 && (n != 1 || p <= 1000)
    printf "       goal: ≤ 1.15x docker run%s: %.2fx%s: %s\n", (n == 1) ? " and p99 ≤ 1000 ms" : "", r,
      (n == 1) ? sprintf(", p99 %d ms", p) : "", ok ? "met" : "not met" }'
done

# One pod with a PersistentVolumeClaim of its own (default class local-path, WaitForFirstConsumer: the scheduler picks
# the node, the provisioner makes the directory and binds, then the pod starts), created with its claim in one apply,
# against the same pod without the volume and `docker run -d` with a fresh host directory bind-mounted, the three
# taken in turn in each of the PVC_RUNS (5; 0 skips it) rounds.
if [ "${PVC_RUNS:-5}" -gt 0 ]; then
  pvc_cluster=() plain_cluster=() pvc_docker=()
  for _ in $(seq 1 "${PVC_RUNS:-5}"); do
    mapfile -t -O "${#plain_cluster[@]}" plain_cluster < <(cluster_batch 1)
    mapfile -t -O "${#pvc_cluster[@]}" pvc_cluster < <(cluster_batch 1 "$image" claim)
    dir="$ORCH_STATE_DIR/bench-volume-$(date +%s%N)" start=$(now_ms)
    mkdir -p "$dir"
    docker run -d --label io.orchestrator.bench=pod-start --network orchestrator -p 127.0.0.1::80 -v "$dir:/data" "$image" >/dev/null
    pvc_docker+=("$(( $(now_ms) - start ))")
    docker ps -aq --filter label=io.orchestrator.bench=pod-start | xargs -r docker rm -f >/dev/null
    rm -rf "$dir"
  done
  [ "${#pvc_cluster[@]}" -eq "${PVC_RUNS:-5}" ] || echo "warning: $(( ${PVC_RUNS:-5} - ${#pvc_cluster[@]} )) pods with a claim never became Ready" >&2
  read -r cm cp < <(printf "%s\n" "${pvc_cluster[@]}" | stats)
  read -r sm sp < <(printf "%s\n" "${plain_cluster[@]}" | stats)
  read -r dm dp < <(printf "%s\n" "${pvc_docker[@]}" | stats)
  printf "%-6s %-22s %-22s %s   (the same pod without the volume: %s / %s ms, %.1fx)\n" "1+pvc" "${cm} / ${cp} ms" "${dm} / ${dp} ms" \
    "$(awk -v a="$cm" -v b="$dm" 'BEGIN {printf "%.1fx", a / (b > 0 ? b : 1)}')" "$sm" "$sp" "$(awk -v a="$cm" -v b="$sm" 'BEGIN {print a / (b > 0 ? b : 1)}')"
fi

# One pod whose image the node pulls from the cluster registry (removed from the local store before each run), against
# `docker pull` + `docker run -d` of it; the pull's own time is the node's Pulled event ("Successfully pulled … in 1.2s").
[ "${PULL_RUNS:-5}" -gt 0 ] || exit 0
"$root/deploy/lib/registry.sh" start "$registry" >/dev/null
# an image of its own (the demo image's files plus one), so that removing it removes its layer and each pull downloads it
cid=$(docker create "$image")
docker export "$cid" >"$ORCH_STATE_DIR/pulled.tar" && docker rm "$cid" >/dev/null
date +%s%N >"$ORCH_STATE_DIR/bench-stamp" && tar -C "$ORCH_STATE_DIR" -rf "$ORCH_STATE_DIR/pulled.tar" bench-stamp
entrypoint=$(docker inspect -f '{{json .Config.Entrypoint}}' "$image") changes=()
[ "$entrypoint" = null ] || changes=(--change "ENTRYPOINT $entrypoint")
docker import "${changes[@]}" \
  --change "CMD $(docker inspect -f '{{json .Config.Cmd}}' "$image")" --change 'EXPOSE 80' \
  "$ORCH_STATE_DIR/pulled.tar" "$pulled_image" >/dev/null
rm -f "$ORCH_STATE_DIR/pulled.tar"
docker push "$pulled_image" >/dev/null
go_ms() { awk '{ s = $1; if (s ~ /ms$/) { sub(/ms$/, "", s); print int(s) } else { m = 0; if (s ~ /m/) { split(s, p, "m"); m = p[1]; s = p[2] } sub(/s$/, "", s); print int((m * 60 + s) * 1000) } }'; }
pull_cluster=() pull_node=() pull_docker=()
for _ in $(seq 1 "${PULL_RUNS:-5}"); do
  docker rmi -f "$pulled_image" >/dev/null
  mapfile -t -O "${#pull_cluster[@]}" pull_cluster < <(cluster_batch 1 "$pulled_image")
  pulled=$(k get events --field-selector reason=Pulled -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' \
    | grep "Successfully pulled image \"$pulled_image\"" | tail -n 1 | sed -E 's/.* in ([0-9.hms]+) \(.*/\1/')
  [ -n "$pulled" ] && pull_node+=("$(echo "$pulled" | go_ms)")
  k delete events --field-selector reason=Pulled >/dev/null 2>&1 || true
  docker rmi -f "$pulled_image" >/dev/null
  start=$(now_ms)
  docker pull -q "$pulled_image" >/dev/null
  docker run -d --label io.orchestrator.bench=pod-start --network orchestrator -p 127.0.0.1::80 "$pulled_image" >/dev/null
  pull_docker+=("$(( $(now_ms) - start ))")
  docker ps -aq --filter label=io.orchestrator.bench=pod-start | xargs -r docker rm -f >/dev/null
done
read -r cm cp < <(printf "%s\n" "${pull_cluster[@]}" | stats)
read -r pm pp < <(printf "%s\n" "${pull_node[@]:-0}" | stats)
read -r dm dp < <(printf "%s\n" "${pull_docker[@]}" | stats)
printf "%-6s %-22s %-22s %s   (the node's pull alone: %s / %s ms)\n" "1+pull" "${cm} / ${cp} ms" "${dm} / ${dp} ms" \
  "$(awk -v a="$cm" -v b="$dm" 'BEGIN {printf "%.1fx", a / (b > 0 ? b : 1)}')" "$pm" "$pp"
