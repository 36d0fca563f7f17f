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
# Each project's tests, output to its own log; its exit status to NAME.status.
run_tests() { # project
  local name; name=$(basename "$1")
  local log="$results/$name.log" rc=0
  dotnet test "$1" -c Release --no-build -nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    --logger "console;verbosity=normal" >"$log" 2>&1 || rc=$?
  echo "$rc" >"$results/$name.status"
}
# The summary, and each failure with its message and stack.
report_tests() { # project
  local name; name=$(basename "$1")
  local log="$results/$name.log"
  step "tests: $name"
  [ "$(cat "$results/$name.status" 2>/dev/null)" = 0 ] || status=1
  grep -E '^(Passed|Failed)!|error [A-Z]+[0-9]+:' "$log" || true
  grep -E '^\s+Failed ' -A25 "$log" | head -300 || true
}
# What the E2E tests would otherwise build at their start, each a minute of a 2-core machine: the binaries the
# clusters run (deploy/lib/build.sh into the E2E fixtures' build directory, artifacts/e2e-state/bin, which then finds
# them up to date) and the container images ContainerImageTests runs (deploy/images/orchestrator.sh; the test runs it
# again, which finds them up to date by their source hash). A failure here is left to the E2E tests to report.
prebuild_e2e() {
  { ORCH_STATE_DIR="$ORCH_ROOT/artifacts/e2e-state" ORCH_BUILD_DIR="$ORCH_ROOT/artifacts/e2e-state/bin" deploy/lib/build.sh
    env -u ORCH_STATE_DIR -u ORCH_BUILD_DIR deploy/images/orchestrator.sh; } >"$results/e2e-prebuild.log" 2>&1 || true
}

# The unit test projects share nothing (each its own temporary directories, PostgreSQL on a free port), so the
# longest one, Master's, runs beside the others one after another and then the E2E prebuild: about 4 minutes instead
# of 7 on the 2-core CI machine. The E2E tests run alone afterwards (their clusters need the machine's Docker network,
# ports and CPU to themselves: tests/Orchestrator.E2E/AssemblyInfo.cs).
step "unit tests: Orchestrator.Master.Tests beside Shared, Node and Cli, then the E2E tests' binaries and images"
run_tests tests/Orchestrator.Master.Tests &
master_tests=$!
for project in tests/Orchestrator.Shared.Tests tests/Orchestrator.Node.Tests tests/Orchestrator.Cli.Tests; do
  run_tests "$project"
done
prebuild_e2e
wait "$master_tests" || true
for project in tests/Orchestrator.Shared.Tests tests/Orchestrator.Master.Tests tests/Orchestrator.Node.Tests \
               tests/Orchestrator.Cli.Tests; do
  report_tests "$project"
done

run_tests tests/Orchestrator.E2E
report_tests tests/Orchestrator.E2E

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
