#!/bin/bash
# CPU time per create of the API server alone and of the bench client, from the kernel's accounting (utime+stime of each
# process; no profiler, normal runtime settings), as cpu-reads.sh does for reads: the in-process master in its own process
# (bench-api --serve), a first bench run of 1,000 creates to warm up (JIT, connections), then OBJECTS creates at 16 clients
# from another process (a namespace of its own); the server's CPU over that second run divided by its creates.
# usage: bench/api/cpu-creates.sh <bench-api bin dir> <label>   (OBJECTS=N (3000), OUT=dir, SERVE_ENV="VAR=value …" for the
#        server alone, CLIENT_BIN=dir: the bench client of another build against this build's server)
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/lib/common.sh"
[ $# -ge 2 ] || die "usage: bench/api/cpu-creates.sh <bench-api bin dir> <label>"
BIN=$1; LABEL=$2; CLIENT=${CLIENT_BIN:-$1}; OUT=${OUT:-/tmp/bench-api-cpu}; N=${OBJECTS:-3000}; mkdir -p "$OUT"
source "$(dirname "${BASH_SOURCE[0]}")/bench-server.sh"
# shellcheck disable=SC2086 # SERVE_ENV is a list of VAR=value words
start_bench_server "$BIN" "$LABEL" "$OUT" ${SERVE_ENV:-}
ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
dotnet $CLIENT/bench-api.dll --objects 1000 --concurrency 16 --only create $ARGS > "$OUT/warm-$LABEL.txt" 2>&1
load=$(cut -d' ' -f1 /proc/loadavg); at=$(date -u +%H:%M:%S); before=$(ticks $PID)
/usr/bin/time -f "%U %S" -o "$OUT/client-$LABEL.txt" dotnet $CLIENT/bench-api.dll --objects $N --concurrency 16 --only create \
  $ARGS > "$OUT/bench-$LABEL.txt" 2>&1
after=$(ticks $PID)
rss=$(awk '/^VmRSS/ {r=$2} /^VmHWM/ {h=$2} END {printf "RSS %.0f MB (peak %.0f MB)", r/1024, h/1024}' /proc/$PID/status)
stop_bench_server
line=$(grep -E "^create " "$OUT/bench-$LABEL.txt" | tail -1 | sed 's/ *(goal.*//; s/  */ /g')
client=$(awk '{print $1 + $2}' "$OUT/client-$LABEL.txt")
awk -v l="$LABEL" -v at="$at" -v load="$load" -v s=$((after - before)) -v hz="$(getconf CLK_TCK)" -v c="$client" -v n=$N -v line="$line" -v rss="$rss" 'BEGIN {
  printf "%s %s load %s: server %.0f µs CPU per create, client process %.0f µs (incl. its start), server %s | %s\n", l, at, load, s * 1e6 / hz / n, c * 1e6 / n, rss, line }'
