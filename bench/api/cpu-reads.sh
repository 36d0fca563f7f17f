#!/bin/bash
# CPU time per read of the API server alone and of the bench client, from the kernel's accounting (utime+stime of each
# process; no profiler, normal runtime settings): the in-process master in its own process (bench-api --serve), a first
# bench run creating and warming up, then a second one (the measured reads only) from another process; the server's CPU
# over that second run, divided by its requests. Robust where perf's sampling is not (a loaded or virtualised machine).
# usage: bench/api/cpu-reads.sh <bench-api bin dir> <label> [list|table|get]   (LISTS=N, GET_ROUNDS=N (of 2,000 gets), OUT=dir, SERVE_ENV="VAR=value …",
#        CLIENT_BIN=dir: the bench client of another build against this build's server, BENCH_ARGS="…": more options for the measured client run, e.g. --get-client invoker)
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/lib/common.sh"
[ $# -ge 2 ] || die "usage: bench/api/cpu-reads.sh <bench-api bin dir> <label> [list|table|get]"
BIN=$1; LABEL=$2; CLIENT=${CLIENT_BIN:-$1}; ONLY=${3:-list}; OUT=${OUT:-/tmp/bench-api-cpu}; LISTS=${LISTS:-300}; mkdir -p "$OUT"
source "$(dirname "${BASH_SOURCE[0]}")/bench-server.sh"
# shellcheck disable=SC2086 # SERVE_ENV is a list of VAR=value words
start_bench_server "$BIN" "$LABEL" "$OUT" ${SERVE_ENV:-}
ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
dotnet $CLIENT/bench-api.dll --objects 2000 --concurrency 16 --lists 40 --only $ONLY --namespace benchns $ARGS > "$OUT/warm-$LABEL.txt" 2>&1
n=$LISTS; [ "$ONLY" = get ] && n=$((2000 * ${GET_ROUNDS:-1}))
load=$(cut -d' ' -f1 /proc/loadavg); at=$(date -u +%H:%M:%S); before=$(ticks $PID)
/usr/bin/time -f "%U %S" -o "$OUT/client-$LABEL.txt" dotnet $CLIENT/bench-api.dll --objects 2000 --concurrency 16 --lists $LISTS \
  --get-rounds ${GET_ROUNDS:-1} --only $ONLY --namespace benchns $ARGS ${BENCH_ARGS:-} > "$OUT/bench-$LABEL.txt" 2>&1
after=$(ticks $PID)
rss=$(awk '/^VmRSS/ {r=$2} /^VmHWM/ {h=$2} END {printf "RSS %.0f MB (peak %.0f MB)", r/1024, h/1024}' /proc/$PID/status)
stop_bench_server
line=$(grep -E "^(list|get)" "$OUT/bench-$LABEL.txt" | tail -1 | sed 's/ *(goal.*//; s/  */ /g')
client=$(awk '{print $1 + $2}' "$OUT/client-$LABEL.txt")
awk -v l="$LABEL" -v at="$at" -v load="$load" -v s=$((after - before)) -v hz="$(getconf CLK_TCK)" -v c="$client" -v n=$n -v line="$line" -v rss="$rss" 'BEGIN {
  printf "%s %s load %s: server %.0f µs CPU per request, client process %.0f µs (incl. its start), server %s | %s\n", l, at, load, s * 1e6 / hz / n, c * 1e6 / n, rss, line }'
