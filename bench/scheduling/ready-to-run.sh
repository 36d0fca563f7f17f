#!/usr/bin/env bash
# Runs the scheduling bench on ReadyToRun code, as the shipped master runs: the bench's JIT build (dotnet build -c
# Release) copied to bin/Release/net10.0-r2r, then the assemblies deploy/lib/build.sh compiles ReadyToRun in place
# (ready_to_run_names of deploy/lib/ready-to-run.sh, which both use) and the bench's own, compiled as build.sh does (one
# version bubble per assembly, against the shared framework installed here). With --all every managed assembly of the
# bench is compiled (an experiment: what the JIT leaves when nothing of ours or the packages' is IL; LanguageExt.Core
# stays IL as in build.sh's publish mode). Whatever the framework's generics over our types need is still JIT-compiled.
#   bench/scheduling/ready-to-run.sh [--all] [bench arguments]   (no bench arguments: compile and print the directory)
#   bench/scheduling/ready-to-run.sh --workload pods --nodes 1000 --pods 10000 --replica-sets 10 --runs 2 --timeout 150
# Takes the machine's bench lock itself unless BENCH_LOCKED=1.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../../deploy/lib/common.sh"
all=0
if [ "${1:-}" = --all ]; then all=1; shift; fi
bench="$ORCH_ROOT/bench/scheduling"
jit="$bench/bin/Release/net10.0"
out="$bench/bin/Release/net10.0-r2r$([ $all = 1 ] && echo -all || true)"
dotnet build "$bench" -c Release -nologo -v quiet --disable-build-servers >/dev/null || die "building the scheduling bench failed"

source "$ORCH_ROOT/deploy/lib/ready-to-run.sh" # build.sh's list, compiler and runtimes
crossgen2=$(crossgen2_path "$bench/obj/crossgen2")
ready_to_run_runtimes

mkdir -p "$out"
cp -a "$jit/." "$out/"
if [ $all = 1 ]; then
  names=()
  for f in "$jit"/*.dll; do
    name=$(basename "$f")
    [ "$name" != LanguageExt.Core.dll ] && names+=("$name")
  done
else
  names=("${ready_to_run_names[@]}" Orchestrator.Bench.Scheduling.dll)
fi
# each image kept by the checksum of its IL: a second run compiles only what changed
cache="$bench/obj/ready-to-run/$(basename "$netcore")-$(basename "$aspnetcore")"
mkdir -p "$cache"
log="$out/crossgen2.log"
: >"$log"
compiled=0
for name in "${names[@]}"; do
  [ -f "$jit/$name" ] || continue
  sum=$(sha256sum "$jit/$name" | cut -c1-32)
  image="$cache/$sum.dll"
  if [ ! -f "$image" ]; then
    # not every package assembly is IL that crossgen2 takes (--all): such a one stays as it is
    if ! crossgen2_compile "$jit/$name" "$image" "$log"; then
      [ $all = 1 ] || die "crossgen2 of $name failed (log: $log)"
      say "  $name left as IL (crossgen2 failed, log: $log)"
      continue
    fi
  fi
  cp "$image" "$out/$name"
  compiled=$((compiled + 1))
done
say "$compiled assemblies ReadyToRun in $out"
[ $# -gt 0 ] || exit 0
if [ "${BENCH_LOCKED:-0}" = 1 ]; then exec dotnet "$out/Orchestrator.Bench.Scheduling.dll" "$@"; fi
exec flock -w 900 /tmp/orchestrator-e2e.lock dotnet "$out/Orchestrator.Bench.Scheduling.dll" "$@"
