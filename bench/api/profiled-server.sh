# Sourced by profile-reads.sh and profile-creates.sh: the in-process master alone in its own process (bench-api --serve)
# with what perf needs to resolve every .NET frame from /tmp/perf-PID.map (ReadyToRun, tiering and W^X off), kept until
# stop_profiled_server. start_profiled_server BIN LABEL OUT [VAR=value …] sets ARGS (--server … --token … for the bench)
# and PID (the server's, for perf record -p).
start_profiled_server() {
  local bin=$1 label=$2 out=$3; shift 3
  local port=${PORT:-$((21000 + RANDOM % 1000))}
  mkfifo "$out/in-$label" 2>/dev/null || true
  ( sleep 100000 > "$out/in-$label" ) & HOLD=$!
  env DOTNET_PerfMapEnabled=1 DOTNET_ReadyToRun=0 DOTNET_TieredCompilation=0 DOTNET_EnableWriteXorExecute=0 "$@" \
    dotnet "$bin/bench-api.dll" --serve "$port" < "$out/in-$label" > "$out/serve-$label.txt" 2>&1 & SRV=$!
  for _ in $(seq 1 60); do grep -q -- "--token" "$out/serve-$label.txt" 2>/dev/null && break; sleep 1; done
  ARGS=$(grep -- "--server" "$out/serve-$label.txt") || die "the server did not start (see $out/serve-$label.txt)"
  PID=$(sed -n 's/.*(pid \([0-9]*\),.*/\1/p' "$out/serve-$label.txt")
}

stop_profiled_server() { kill "$HOLD"; wait "$SRV"; }
