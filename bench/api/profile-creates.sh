#!/bin/bash
# A CPU profile of the API server alone during creates: the in-process master in its own process (bench-api --serve)
# under `perf record` (cpu-clock, 499 Hz, frame pointers; ReadyToRun and tiering off and W^X off so that perf resolves
# every .NET frame from /tmp/perf-PID.map), a first bench run of creates to warm up (JIT, connections), then a second
# one (OBJECTS creates, 16 clients, in a namespace of its own) from another process, profiled.
# Report: perf report -i $OUT/perf-LABEL.data --stdio --children --sort sym -g none
# usage: bench/api/profile-creates.sh <bench-api bin dir> <label>   (OBJECTS=N creates, OUT=dir, SERVE_ENV="VAR=value …" for
# the server alone)
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/bench-server.sh"
ensure_packages linux-perf
[ $# -ge 2 ] || die "usage: bench/api/profile-creates.sh <bench-api bin dir> <label>"
BIN=$1; LABEL=$2; OUT=${OUT:-/tmp/bench-api-profile}; mkdir -p $OUT
start_profiled_server "$BIN" "$LABEL" "$OUT" $SERVE_ENV
dotnet $BIN/bench-api.dll --objects 1000 --concurrency 16 --only create $ARGS > ${OUT}/warm-$LABEL.txt 2>&1
perf record -F 499 -g -p $PID -o ${OUT}/perf-$LABEL.data > ${OUT}/perfrec-$LABEL.txt 2>&1 & PERF=$!
sleep 1
dotnet $BIN/bench-api.dll --objects ${OBJECTS:-3000} --concurrency 16 --only create $ARGS > ${OUT}/bench-$LABEL.txt 2>&1
kill -INT $PERF; wait $PERF
stop_bench_server
grep -E "create|journal" ${OUT}/bench-$LABEL.txt
