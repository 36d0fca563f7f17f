#!/usr/bin/env bash
# Runs every test: installs what is missing (Docker engine, Debian packages), builds the solution and the demo
# images, then runs the unit and integration tests and the end-to-end tests (real Docker, real kubectl; the E2E
# tests bring up their own cluster with deploy/up.sh in a private state directory and take it down again).
# Ends with one line "tests: N passed, N failed, N skipped". Exit status non-zero when anything failed.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"
cd "$ORCH_ROOT"

results="$ORCH_ROOT/artifacts/test-results"
rm -rf "$results" && mkdir -p "$results"

step "packages"
ensure_packages curl gcc libc6-dev ca-certificates busybox-static iproute2 libc-bin chromium zsh openssl docker-registry apache2-utils python3
ensure_node # the dashboard's front end (npm) is built with the master
command -v dotnet >/dev/null 2>&1 || die "the .NET SDK (dotnet) is not on PATH"
command -v kubectl >/dev/null 2>&1 || die "kubectl is not on PATH"

step "Docker engine"
ensure_docker

# The store's persistence tests also run on PostgreSQL: they start a private cluster of their own with
# deploy/lib/postgres.sh (a temporary directory, a free loopback port) and stop it at the end.
step "PostgreSQL"
ensure_postgres

step "build"
if ! dotnet build Orchestrator.sln -c Release -nologo -v quiet >"$results/build.log" 2>&1; then
  grep -E 'error' "$results/build.log" | sort -u | head -30 >&2
  die "the build failed (log: $results/build.log)"
fi

step "demo images"
deploy/images/build.sh

status=0
run_tests() { # project; non-zero when a test failed (run in the background too, where it cannot set status)
  local name rc=0; name=$(basename "$1")
  step "tests: $name"
  local log="$results/$name.log"
  if ! dotnet test "$1" -c Release --no-build -nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
      --logger "console;verbosity=normal" >"$log" 2>&1; then
    rc=1
  fi
  # The summary, and each failure with its message and stack: 80 lines, so a lab drill's message shows its 40 cluster
  # events whole and the API balancer's log after them (25 lines cut them to their oldest 16 on 2026-12-06).
  grep -E '^(Passed|Failed)!|error [A-Z]+[0-9]+:' "$log" || true
  grep -E '^\s+Failed ' -A80 "$log" | head -400 || true
  return $rc
}
# One project after another. Tried for CI's run time (2026-12-04): Master's tests beside Shared, Node and Cli, with the
# E2E tests' binaries and images built beside them, passed Shared and Cli but failed two load-sensitive tests
# (HostileInputSuiteTests: a 504 on 50,000 labels; NodeProcessTests: no re-registration within 2 min after a master
# crash — a race in the node agent, fixed 2026-12-05, whose window load widened) on a machine other sessions also
# loaded; keep them apart until that is measured on a quiet machine. Master's and Node's tests, without a build beside
# them, now run side by side (below).
# The one thing run beside tests: the master and node container images (deploy/images/orchestrator.sh, a dotnet
# publish of each, about 67 s) are built beside Shared's and Cli's tests, the two projects that passed beside such
# builds, and waited for before Master's; ContainerImageTests (E2E) then finds them up to date instead of building
# them inside the E2E run. The publish writes only src/*/obj/Release/net10.0/linux-x64, the projects' restore files
# and .state/images, none of which the tests (run from their bin directories, --no-build) read. If it fails, its log
# is shown and ContainerImageTests builds the images again and fails with the reason.
# Its restore for linux-x64 makes the next plain `dotnet build` of the master and the node compile them again (measured
# 2026-12-05): so the E2E clusters' build (deploy/lib/build.sh into the directory ClusterFixture and the lab fixtures
# use) is made first, from the solution's build in a few seconds (and about a minute of crossgen2 CPU for the
# start-up's assemblies, build.sh's default), and the fixtures find it up to date.
step "the E2E clusters' build (deploy/lib/build.sh: artifacts/e2e-state/bin)"
ORCH_BUILD_DIR="$ORCH_ROOT/artifacts/e2e-state/bin" deploy/lib/build.sh
orchestrator_images_log="$results/orchestrator-images.log"
deploy/images/orchestrator.sh >"$orchestrator_images_log" 2>&1 &
orchestrator_images_pid=$!
for project in tests/Orchestrator.Shared.Tests tests/Orchestrator.Cli.Tests; do
  run_tests "$project" || status=1
done
step "container images of the master and the node (deploy/images/orchestrator.sh, beside the tests above)"
if wait "$orchestrator_images_pid"; then
  sed 's/^/  /' "$orchestrator_images_log"
else
  tail -20 "$orchestrator_images_log" | sed 's/^/  /' >&2
  say "  the images could not be built (log: $orchestrator_images_log); ContainerImageTests will try again"
fi
# Master's and Node's tests side by side (their summaries printed after both, Master's first): about 190 s and 55 s of
# CPU (user+sys, measured side by side), 154 s and 77 s one after the other on the quiet machine of CI (2026-12-06
# 23:54-23:58), so neither keeps both cores busy. Measured 2026-12-07 with other sessions' work on the machine, both
# passing (2199 and 527 tests) each time: side by side 292 s (02:14-02:19 UTC, 1-min load 14-20), one after the other
# 295 s (02:43-02:48, load 7-16), side by side 239 s (02:49-02:53, load 5-9). The E2E tests start after both ended.
step "tests: Orchestrator.Master.Tests and Orchestrator.Node.Tests, side by side"
master_summary="$results/Orchestrator.Master.Tests.summary" node_summary="$results/Orchestrator.Node.Tests.summary"
run_tests tests/Orchestrator.Master.Tests >"$master_summary" 2>&1 &
master_tests_pid=$!
run_tests tests/Orchestrator.Node.Tests >"$node_summary" 2>&1 &
node_tests_pid=$!
wait "$master_tests_pid" || status=1
wait "$node_tests_pid" || status=1
cat "$master_summary" "$node_summary"
rm -f "$master_summary" "$node_summary"
run_tests tests/Orchestrator.E2E || status=1

passed=0 failed=0 skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  total=$(sed -E 's/.* total="([0-9]+)".*/\1/' <<<"$counters")
  p=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
  f=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + total - p - f))
done
[ $failed -eq 0 ] || status=1
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
