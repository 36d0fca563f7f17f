#!/usr/bin/env bash
# Runs the official JavaScript client's own integration tests (kubernetes-client/javascript, src/test/integration:
# patchNamespace, cpFromPod, portForward, watchPods, informerReconnect — what its `npm run integration-test` runs against
# a kind cluster) against a cluster of deploy/up.sh.
#
# Usage: JS_CLIENT_ROOT=/path/to/javascript tests/client-e2e/javascript/run.sh
#   JS_CLIENT_ROOT  a checkout of kubernetes-client/javascript (git clone https://github.com/kubernetes-client/javascript);
#                   only its package.json (the release) and src/test/integration/*.ts are read. The client itself is the
#                   published @kubernetes/client-node of that release, installed from the npm registry into the work
#                   directory (a checkout's generated sources need a build first; the published package is the same
#                   code built): the tests' relative imports of the client's modules are pointed at the package, the
#                   only change made to them.
# The cluster: the one the current kubeconfig context names when it answers, else one started here with deploy/up.sh
# and stopped again at the end. The tests run busybox (no tag: pulled on every start, as a kind node pulls it from
# Docker Hub); no registry on the internet is reachable here, so the script starts the cluster's registry
# (deploy/lib/registry.sh, 127.0.0.1:5000) and pushes the local busybox:latest (deploy/images/build.sh) there as
# library/busybox:latest, and a cluster started here gets the node flag --registry-mirror 127.0.0.1:5000. A cluster
# that was already running needs that flag too (ORCHESTRATOR_NODE_REGISTRY_MIRROR=127.0.0.1:5000 deploy/up.sh).
# The tests use local ports 18080 and 18081 (port-forward listeners) and the namespace default.
# Settings (environment): JS_CLIENT_WORK (default artifacts/client-e2e/javascript: npm packages, the tests, the log).
set -uo pipefail
ORCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
source "$ORCH_ROOT/deploy/lib/common.sh"
die() { printf 'error: %s\n' "$*" >&2; exit 2; } # after common.sh, whose die exits 1: 2 is "could not run"

[ -n "${JS_CLIENT_ROOT:-}" ] || die "JS_CLIENT_ROOT is not set: point it at a kubernetes-client/javascript checkout"
[ -f "$JS_CLIENT_ROOT/package.json" ] && [ -f "$JS_CLIENT_ROOT/src/test/integration/index.ts" ] \
  || die "$JS_CLIENT_ROOT has no package.json or src/test/integration/index.ts (not a kubernetes-client/javascript checkout)"
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed (Debian: apt-get install nodejs npm)"
command -v kubectl >/dev/null || die "kubectl is not on PATH"
work="${JS_CLIENT_WORK:-$ORCH_ROOT/artifacts/client-e2e/javascript}"
version=$(node -p 'require(process.argv[1]).version' "$JS_CLIENT_ROOT/package.json") || die "no version in package.json"

# The tests and the client, in a work directory of their own.
rm -rf "$work/src" && mkdir -p "$work/src/test/integration" || die "cannot write $work"
cp "$JS_CLIENT_ROOT"/src/test/integration/*.ts "$work/src/test/integration/"
sed -i -E "s#from '(\.\./)+[a-z_]+\.js'#from '@kubernetes/client-node'#" "$work"/src/test/integration/*.ts
printf '{"type": "module"}\n' >"$work/src/package.json"
# client-node 2.x asks for undici 8, which needs Node.js 22; Debian 12's Node.js 20 runs undici 7, the same API.
node_major=$(node -p 'process.versions.node.split(".")[0]')
overrides='{}'; [ "$node_major" -lt 22 ] && overrides='{"undici": "^7"}'
printf '{"name": "client-e2e-javascript", "private": true, "type": "module", "overrides": %s}\n' "$overrides" >"$work/package.json"
echo "• @kubernetes/client-node@$version and tsx from the npm registry (log: $work/npm.log)"
(cd "$work" && npm install --no-audit --no-fund "@kubernetes/client-node@$version" tsx >"$work/npm.log" 2>&1) \
  || die "npm install failed (see $work/npm.log)"

# busybox through the cluster's registry, as a Docker Hub mirror.
mirror=127.0.0.1:5000
docker image inspect busybox:latest >/dev/null 2>&1 || "$ORCH_ROOT/deploy/images/build.sh" || die "the demo images did not build"
ORCH_REGISTRY=$mirror "$ORCH_ROOT/deploy/lib/registry.sh" start "$mirror" || die "the registry did not start"
docker tag busybox:latest "$mirror/library/busybox:latest" && docker push -q "$mirror/library/busybox:latest" >/dev/null \
  || die "pushing busybox to $mirror failed"

started=0
if ! kubectl get --raw /readyz >/dev/null 2>&1; then
  echo "• no cluster answers the current context: starting one (deploy/up.sh, --registry-mirror $mirror)"
  ORCHESTRATOR_NODE_REGISTRY_MIRROR=$mirror "$ORCH_ROOT/deploy/up.sh" >"$work/up.log" 2>&1 || die "deploy/up.sh failed (see $work/up.log)"
  started=1
fi
# deploy/down.sh stops the registry too, so it goes last
stop_cluster() { [ $started -eq 1 ] && "$ORCH_ROOT/deploy/down.sh" >"$work/down.log" 2>&1; }
trap stop_cluster EXIT

echo "• the integration tests of @kubernetes/client-node $version (log: $work/tests.log)"
(cd "$work" && timeout 900 npx tsx src/test/integration/index.ts) >"$work/tests.log" 2>&1
status=$?
grep -E '^(===|✓|.*passed!|Creating|AssertionError|Error)' "$work/tests.log" | sed 's/^/  /'
if [ $status -eq 0 ]; then echo "PASS: every integration test of @kubernetes/client-node $version"
else echo "FAIL (exit $status): the last lines of $work/tests.log:"; tail -20 "$work/tests.log"; fi
exit $status
