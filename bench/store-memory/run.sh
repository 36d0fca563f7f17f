#!/usr/bin/env bash
# Memory and disk of the master under a burst of large writes, and after it (issue 12, "Unbounded growth"):
# a fresh master, then 200 updates of a ConfigMap holding 1,000,000 bytes (just under Kubernetes' 1 MiB limit),
# then idle, delete, idle. Prints the master's RSS and the size of store.db (with -wal and -shm) at each step.
# Usage: bench/store-memory/run.sh   (needs a Release build: dotnet build src/Orchestrator.Master -c Release)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dll="$root/src/Orchestrator.Master/bin/Release/net10.0/orchestrator-master.dll"
[ -f "$dll" ] || { echo "build first: dotnet build src/Orchestrator.Master -c Release" >&2; exit 1; }
port=${PORT:-17543}
data=$(mktemp -d)
dotnet "$dll" --data-dir "$data/master" --api-port "$port" --cluster-port $((port + 7)) >"$data/master.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
until curl -sfk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
  kill -0 $pid 2>/dev/null || { echo "the master exited: $(tail -5 "$data/master.log")" >&2; exit 1; }
  sleep 0.5
done
rss() { awk '/VmRSS/{printf "%d", $2/1024}' "/proc/$pid/status"; }
db() { du -cm "$data"/master/store.db* | tail -1 | cut -f1; }
report() { printf '%-34s RSS %4d MB   store.db %3d MB\n' "$1" "$(rss)" "$(db)"; }
auth="Authorization: Bearer $(cat "$data/master/token")"
url="https://127.0.0.1:$port/api/v1/namespaces/default/configmaps"
for i in 0 1; do
  printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"x":"%s"}}' \
    "$(head -c 1000000 /dev/zero | tr '\0' "$(printf "\\$(printf '%03o' $((97 + i)))")")" >"$data/cm$i.json"
done
sleep 10; report "baseline (idle 10 s)"
curl -sfk -o /dev/null -H "$auth" -H 'Content-Type: application/json' -X POST --data-binary @"$data/cm0.json" "$url"
started=$(date +%s%N)
for i in $(seq 1 200); do
  curl -sfk -o /dev/null -H "$auth" -H 'Content-Type: application/json' -X PUT --data-binary @"$data/cm$((i % 2)).json" "$url/big"
done
report "200 updates done ($(( ($(date +%s%N) - started) / 1000000 )) ms)"
sleep 30; report "+30 s idle"
curl -sfk -o /dev/null -H "$auth" -X DELETE "$url/big"
prev=0
for t in 30 90 330; do sleep $((t - prev)); prev=$t; report "deleted, +$t s"; done
