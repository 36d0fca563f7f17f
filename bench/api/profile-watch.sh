#!/bin/bash
# The watch fan-out with the server alone in its own process (bench-api --serve): a first bench run to warm up (JIT,
# connections), then a second one measured from another process — the server's CPU (utime+stime from /proc) and the
# client's (/usr/bin/time) over it, per delivered event, so that the bench client's own cost is seen apart from the
# server's. PERF=1: the server runs with what perf needs to resolve .NET frames (ReadyToRun, tiering and W^X off) and the
# measured run is recorded (cpu-clock, 499 Hz, frame pointers).
# Report: perf report -i $OUT/perf-LABEL.data --stdio --children --sort sym -g none
# usage: bench/api/profile-watch.sh <bench-api bin dir> <label>   (WATCHERS=100, EVENTS=1000, OUT=dir, PERF=1,
#        SERVE_ENV="VAR=value …" for the server, CLIENT_BIN=dir: another build's client)
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/bench-server.sh"
[ $# -ge 2 ] || die "usage: bench/api/profile-watch.sh <bench-api bin dir> <label>"
BIN=$1; LABEL=$2; CLIENT=${CLIENT_BIN:-$1}; OUT=${OUT:-/tmp/bench-api-watch}; mkdir -p "$OUT"
WATCHERS=${WATCHERS:-100}; EVENTS=${EVENTS:-1000}
# shellcheck disable=SC2086 # SERVE_ENV is a list of VAR=value words
if [ "${PERF:-0}" = 1 ]; then ensure_packages linux-perf; start_profiled_server "$BIN" "$LABEL" "$OUT" ${SERVE_ENV:-}
else start_bench_server "$BIN" "$LABEL" "$OUT" ${SERVE_ENV:-}; fi
ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
dotnet $CLIENT/bench-api.dll --objects 200 --concurrency 16 --watchers $WATCHERS --watch-events 200 --only watch $ARGS \
  > "$OUT/warm-$LABEL.txt" 2>&1
if [ "${PERF:-0}" = 1 ]; then
  perf record -F 499 -g -p $PID -o "$OUT/perf-$LABEL.data" > "$OUT/perfrec-$LABEL.txt" 2>&1 & PERFPID=$!
  sleep 1
fi
load=$(cut -d' ' -f1 /proc/loadavg); at=$(date -u +%H:%M:%S); before=$(ticks $PID)
/usr/bin/time -f "%U %S" -o "$OUT/client-$LABEL.txt" dotnet $CLIENT/bench-api.dll --objects 200 --concurrency 16 \
  --watchers $WATCHERS --watch-events $EVENTS --only watch $ARGS > "$OUT/bench-$LABEL.txt" 2>&1
after=$(ticks $PID)
if [ "${PERF:-0}" = 1 ]; then kill -INT $PERFPID; wait $PERFPID; fi
stop_bench_server
client=$(awk '{print $1 + $2}' "$OUT/client-$LABEL.txt")
grep -E "watch fan-out|fan-out delay" "$OUT/bench-$LABEL.txt"
awk -v l="$LABEL" -v at="$at" -v load="$load" -v s=$((after - before)) -v hz="$(getconf CLK_TCK)" -v c="$client" \
  -v n=$((WATCHERS * EVENTS)) 'BEGIN {
  printf "%s %s load %s: server %.1f µs CPU per delivered event (%.2f s, incl. the 200 creates and the watches), client process %.1f µs (%.2f s, incl. its start)\n",
    l, at, load, s * 1e6 / hz / n, s / hz, c * 1e6 / n, c }'
