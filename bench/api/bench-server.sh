# Sourced by profile-reads.sh, profile-creates.sh and cpu-reads.sh: the in-process master alone in its own process
# (bench-api --serve), kept until stop_bench_server. start_bench_server BIN LABEL OUT [VAR=value …] sets ARGS
# (--server … --token … for the bench) and PID (the server's). start_profiled_server does the same with what perf needs
# to resolve every .NET frame from /tmp/perf-PID.map (ReadyToRun, tiering and W^X off).
start_bench_server() {
  local bin=$1 label=$2 out=$3; shift 3
  local port=${PORT:-$((21000 + RANDOM % 1000))}
  mkfifo "$out/in-$label" 2>/dev/null || true
  ( sleep 100000 > "$out/in-$label" ) & HOLD=$!
  env "$@" dotnet "$bin/bench-api.dll" --serve "$port" < "$out/in-$label" > "$out/serve-$label.txt" 2>&1 & SRV=$!
  for _ in $(seq 1 60); do grep -q -- "--token" "$out/serve-$label.txt" 2>/dev/null && break; sleep 1; done
  ARGS=$(grep -- "--server" "$out/serve-$label.txt") || { kill "$HOLD"; die "the server did not start (see $out/serve-$label.txt)"; }
  PID=$(sed -n 's/.*(pid \([0-9]*\),.*/\1/p' "$out/serve-$label.txt")
}

start_profiled_server() {
  local bin=$1 label=$2 out=$3; shift 3
  start_bench_server "$bin" "$label" "$out" DOTNET_PerfMapEnabled=1 DOTNET_ReadyToRun=0 DOTNET_TieredCompilation=0 \
    DOTNET_EnableWriteXorExecute=0 "$@"
}

stop_bench_server() { kill "$HOLD"; wait "$SRV"; }
