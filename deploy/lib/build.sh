#!/usr/bin/env bash
# Builds the master, node, CLI and the master+node in one process (all-in-one: deploy/up.sh's default; the master and
# the node apart: ORCH_ONE_PROCESS=0, the lab) into $ORCH_STATE_DIR/bin; skipped when no source (nor this script)
# changed since the last build.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
stamp="$ORCH_BUILD_DIR/.built"
# One build of a directory at a time (the E2E tests' lab and single-node clusters share one): a second caller waits,
# then finds the stamp newer than the sources and builds nothing. (The lock goes with this process: build.sh is always
# run, never sourced, and dotnet runs without build servers below.)
mkdir -p "$(dirname "$ORCH_BUILD_DIR")"
exec {build_lock}>"$ORCH_BUILD_DIR.lock"
flock -w 1800 "$build_lock" || die "another build of $ORCH_BUILD_DIR held its lock for 30 min"
# ORCH_READY_TO_RUN=1 publishes the master, node and CLI ReadyToRun (issue 19: native code for their start-up paths;
# crossgen, framework-dependent, LanguageExt.Core left to the JIT): a third less of the master's start-up CPU, for a
# build 2.7 times the CPU and 20-35 MB more RSS per process (bench/startup.md). Off by default for the build's cost: the
# E2E runs build with this script after the solution's build, which the JIT build reuses (seconds) and a publish does
# not (several minutes of CPU per run, bench/startup.md "startfast2"). The node's stalled first join it made more
# frequent is bounded since (the 0.5 s transport heartbeat, "joinfix"). The stamp names the kind of build; a stamp
# without one (made by `touch`, as the benches do to reuse a build) is taken as it is.
mode=$([ "${ORCH_READY_TO_RUN:-0}" = 1 ] && echo ready-to-run || echo jit)
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
echo "$mode" >"$stamp"
