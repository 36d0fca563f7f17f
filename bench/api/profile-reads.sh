#!/bin/bash
# A CPU profile of the API server alone during reads: the in-process master in its own process (bench-api --serve)
# under `perf record` (cpu-clock, 499 Hz, frame pointers; ReadyToRun and tiering off and W^X off so that perf resolves every
# .NET frame from /tmp/perf-PID.map), a first bench run creating and warming up, then a second one (the measured reads
# only) from another process. Report: perf report -i $OUT/perf-LABEL.data --stdio --children --sort sym -g none
# usage: bench/api/profile-reads.sh <bench-api bin dir> <label> [get,list,table]   (LISTS=N lists, GET_ROUNDS=N, OUT=dir,
#        BENCH_ARGS="…": more options for both client runs, e.g. --get-as serviceaccount; CLIENT_BIN=dir: the bench client of
#        another build against this build's server)
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/bench-server.sh"
ensure_packages linux-perf
[ $# -ge 2 ] || die "usage: bench/api/profile-reads.sh <bench-api bin dir> <label> [get,list,table]"
BIN=$1; LABEL=$2; CLIENT=${CLIENT_BIN:-$1}; ONLY=${3:-list,table}; OUT=${OUT:-/tmp/bench-api-profile}; mkdir -p $OUT
start_profiled_server "$BIN" "$LABEL" "$OUT"
# populate + warm up first (the same reads), then profile a second run of them
dotnet $CLIENT/bench-api.dll --objects 2000 --concurrency 16 --lists 20 --only $ONLY --namespace benchns $ARGS ${BENCH_ARGS:-} > ${OUT}/warm-$LABEL.txt 2>&1
perf record -F 499 -g -p $PID -o ${OUT}/perf-$LABEL.data > ${OUT}/perfrec-$LABEL.txt 2>&1 & PERF=$!
sleep 1
dotnet $CLIENT/bench-api.dll --objects 2000 --concurrency 16 --lists ${LISTS:-300} --get-rounds ${GET_ROUNDS:-1} --only $ONLY --namespace benchns $ARGS ${BENCH_ARGS:-} > ${OUT}/bench-$LABEL.txt 2>&1
kill -INT $PERF; wait $PERF
stop_bench_server
cat ${OUT}/bench-$LABEL.txt | grep -E "list|create|get"
