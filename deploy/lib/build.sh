#!/usr/bin/env bash
# Builds the master, node, CLI and the master+node in one process (all-in-one: deploy/up.sh's default; the master and
# the node apart: ORCH_ONE_PROCESS=0, the lab) into $ORCH_STATE_DIR/bin; skipped when no source (nor this script)
# changed since the last build.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
source "$ORCH_ROOT/deploy/lib/ready-to-run.sh"
stamp="$ORCH_BUILD_DIR/.built"
# One build of a directory at a time (the E2E tests' lab and single-node clusters share one): a second caller waits,
# then finds the stamp newer than the sources and builds nothing. (The lock goes with this process: build.sh is always
# run, never sourced, and dotnet runs without build servers below.)
mkdir -p "$(dirname "$ORCH_BUILD_DIR")"
exec {build_lock}>"$ORCH_BUILD_DIR.lock"
flock -w 1800 "$build_lock" || die "another build of $ORCH_BUILD_DIR held its lock for 30 min"
# ORCH_READY_TO_RUN (issue 19; bench/startup.md "ReadyToRun of the start-up's assemblies"):
# - unset or "start" (the default): the JIT build, then the assemblies whose methods a start JIT-compiles by the
#   hundreds (ours, Akka's, DotNetty, KubernetesClient … below) compiled ReadyToRun in place by crossgen2 (the SDK's
#   own compiler package, restored once), each its own version bubble as a ReadyToRun NuGet package ships, against the
#   shared framework installed here. The JIT build is reused as it is (seconds after the solution's build, as the E2E
#   runs need); the compiler's CPU is about a minute, and only for the assemblies that changed (a cache by content).
# - 0: the JIT build alone.
# - 1: the master, node and CLI published ReadyToRun whole (`dotnet publish -r <rid>`: every project compiled again
#   for the runtime identifier, crossgen of every dependency, framework-dependent, LanguageExt.Core left to the JIT):
#   2.7 times the CPU of the JIT build. Beyond the default's assemblies it compiles ones a start barely touches; what a
#   start JIT-compiles besides (the framework's generics over our types, ~2,500 methods) neither holds.
# The stamp names the kind of build; a stamp without one (made by `touch`, as the benches do to reuse a build) is taken
# as it is.
mode=$(build_kind)
if build_up_to_date; then
  say "  build is up to date"
  exit 0
fi
# another kind of build than the one there: its files go first (a publish and a build leave different sets of files,
# and neither removes the other's)
if [ -s "$stamp" ] && [ "$(cat "$stamp")" != "$mode" ]; then rm -rf "$ORCH_BUILD_DIR"/{master,node,cli,all-in-one}; fi
# no stamp while the build runs (or after it failed): deploy/up.sh checks it without this lock (build_up_to_date)
rm -f "$stamp"
mkdir -p "$ORCH_BUILD_DIR"
# Compiles ready_to_run_names in place in the all-in-one's, the master's and the node's output. Each compiled image is
# kept in $ORCH_BUILD_DIR/.ready-to-run by the checksum of its IL (and the framework's version): an assembly that did
# not change (every package, the three directories' copies of one file) is compiled once; images no output uses any
# more are removed.
ready_to_run_start_assemblies() {
  local crossgen2 netcore aspnetcore cache log="$ORCH_BUILD_DIR/build-ReadyToRun.log" dir name sum image
  crossgen2=$(crossgen2_path "$ORCH_BUILD_DIR/.crossgen2") || exit 1 # (its error said why)
  ready_to_run_runtimes
  cache="$ORCH_BUILD_DIR/.ready-to-run/$(basename "$netcore")-$(basename "$aspnetcore")"
  mkdir -p "$cache"
  : >"$log"
  local -A used=()
  for dir in all-in-one master node; do
    for name in "${ready_to_run_names[@]}"; do
      [ -f "$ORCH_BUILD_DIR/$dir/$name" ] || continue
      sum=$(sha256sum "$ORCH_BUILD_DIR/$dir/$name" | cut -c1-32)
      image="$cache/$sum.dll"
      if [ ! -f "$image" ]; then
        crossgen2_compile "$ORCH_BUILD_DIR/$dir/$name" "$image" "$log" \
          || { tail -20 "$log" >&2; die "crossgen2 of $dir/$name failed (log: $log)"; }
      fi
      cp "$image" "$ORCH_BUILD_DIR/$dir/$name" || die "copying the ReadyToRun $name into $dir failed"
      used[$sum.dll]=1
    done
  done
  for image in "$cache"/*.dll; do [ -n "${used[$(basename "$image")]:-}" ] || rm -f "$image"; done
  find "$ORCH_BUILD_DIR/.ready-to-run" -mindepth 1 -maxdepth 1 -type d ! -path "$cache" -exec rm -rf {} +
}

ensure_node # the master embeds the dashboard, which npm builds
# no build servers (MSBuild nodes, the compiler server): they would outlive the script holding its caller's open
# files, such as a lock taken around deploy/up.sh
for project in Master Node Cli AllInOne; do
  out="$ORCH_BUILD_DIR/$(echo "$project" | sed 's/AllInOne/all-in-one/' | tr '[:upper:]' '[:lower:]')"
  log="$ORCH_BUILD_DIR/build-$project.log"
  if [ "$mode" = ready-to-run ]; then
    dotnet publish "$ORCH_ROOT/src/Orchestrator.$project" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
      -o "$out" -nologo -v quiet --disable-build-servers >"$log" 2>&1 \
      || { tail -20 "$log" >&2; die "building Orchestrator.$project failed (log: $log)"; }
  else
    # Built where `dotnet build` of the solution puts it (bin/Release/net10.0), then copied: with -o the references
    # (Orchestrator.Shared.dll) are read from the output directory, a path the solution's build never compiled against,
    # so every project was compiled again even right after the solution's build (deploy/test.sh: 2m16 s of CPU, about
    # 75 s of CI's E2E run); this way a build of unchanged sources is a few seconds per project.
    dotnet build "$ORCH_ROOT/src/Orchestrator.$project" -c Release -nologo -v quiet --disable-build-servers >"$log" 2>&1 \
      || { tail -20 "$log" >&2; die "building Orchestrator.$project failed (log: $log)"; }
    mkdir -p "$out"
    cp -a "$ORCH_ROOT/src/Orchestrator.$project/bin/Release/net10.0/." "$out/" || die "copying the build of Orchestrator.$project to $out failed"
  fi
done
if [ "$mode" = ready-to-run-start ]; then ready_to_run_start_assemblies; fi
echo "$mode" >"$stamp"
