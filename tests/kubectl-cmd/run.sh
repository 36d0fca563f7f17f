#!/usr/bin/env bash
# Runs kubectl's own command tests (test/cmd of the kubernetes repository, the suite `make test-cmd` runs) against an
# Orchestrator master, as kubernetes' hack/make-rules/test-cmd.sh runs them against kube-apiserver: the master alone
# (no node: test-cmd starts no kubelet either), a kubeconfig context "test" holding the admin token, then
# hack/lib/init.sh, hack/lib/test.sh and test/cmd/legacy-script.sh sourced and runTests called with WHAT=<group>.
#
# Usage: KUBE_ROOT=/path/to/kubernetes tests/kubectl-cmd/run.sh [group...]
#   KUBE_ROOT  a checkout of kubernetes at the release the cluster speaks (v1.32.x); only test/cmd, hack/lib,
#              hack/testdata, test/fixtures, test/e2e/testing-manifests and third_party/forked/shell2junit are read.
#              The sources are not part of this repository; get them with, for example:
#                git clone --depth 1 --branch v1.32.4 --filter=blob:none --sparse \
#                  https://github.com/kubernetes/kubernetes "$KUBE_ROOT"
#                git -C "$KUBE_ROOT" sparse-checkout set test/cmd hack test/fixtures test/e2e/testing-manifests \
#                  third_party/forked/shell2junit
#   group      test/cmd's function run_<group>_tests (or run_<group>_test: `secrets`); default: pod service rc rs
#              deployment namespace (pods, services, replication controllers, replica sets, deployments, namespaces).
#              a+b runs groups a and b in one runTests (WHAT="a b"), for a group that works in the namespace its
#              predecessor in legacy-script.sh left in the context, as kubectl_create_kustomization_directory does
#              (it asserts no Service, which holds in the namespace kubectl_events made, not in default; create_secret, between them, makes
#              none): kubectl_events+create_secret+kubectl_create_kustomization_directory.
#              core.sh's other groups: configmap secrets create_secret service_accounts pod_templates nodes.
# Without a clone (this was run with sources fetched file by file, from kubernetes/kubernetes and forks), keep the
# files of one release together; what a mixed set got wrong, and what had to be reconstructed, was:
#   - hack/lib/test.sh's object_assert either evals its arguments (older) or not (newer): go-template literals are
#     written \\\"x\\\" for the first and \"x\" for the second (core.sh, node-management.sh, discovery.sh, batch.sh,
#     events.sh as stored are the second kind; apps.sh, get.sh older ones the first); a mismatch shows as
#     `error parsing template ... bad character U+002D` or `function "x" not defined`, never as a server failure;
#   - kubectl output expectations follow the kubectl of the file's release: node-management.sh as stored wants
#     kubectl 1.33's -v=6 lines ("Response" verb=...), the stored rbac.sh an older kubectl's lower-case "warning: deleting
#     cluster-scoped resources", wait.sh's --wait-for-creation a kubectl newer than 1.33.1; run a group with another kubectl by
#     putting it first on PATH;
#   - not stored anywhere readable, so reconstructed (content follows what the tests assert): hack/testdata/tls.key
#     (+ a matching tls.crt), test/e2e/testing-manifests/guestbook/redis-master-service.yaml,
#     test/fixtures/doc-yaml/admin/high-availability/etcd.yaml (ports 12380/12379),
#     test/fixtures/pkg/kubectl/cmd/patch/validPod.yaml, hack/testdata/kustomize/configmap.yaml, and apps/v1
#     versions of hack/testdata deployment-*.yaml / scale-deploy-2.yaml / user-guide/deployment.yaml.
# The `fetch` tool cannot bring kubernetes/kubernetes here (a 1.9 GB snapshot; 500 MB at most), so the last run used
# /tmp/k8s-kcmdcore's files (see its PROVENANCE.txt) plus, read file by file from kubernetes/kubernetes:
# hack/testdata/filter/*, hack/testdata/CRD/example-crd-1-*.yaml and example-crd-with-additionalfields.yaml,
# hack/testdata/csr.yml (the certificates.k8s.io/v1 version, commit d7ce957d), statefulset/cassandra/service.yaml and,
# reconstructed, cassandra/controller.yaml (the stored upstream copy is gone; a fork's, without its runtimeClassName),
# rollingupdate-statefulset-rv2.yaml, and apps/v1 rollingupdate-daemonset(-rv2).yaml with the images legacy-script.sh
# names (pause:2.0; pause:latest + nginx:test-cmd).
# Run 2026-12-03 (kubectl v1.32.4 unless said): 48 groups pass, none fails on a server cause:
#   pod service rc rs deployment namespace; kubectl_create_filter resource_aliasing crd_deletion_recreation
#   explain_crd_with_additional_properties (after additionalProperties: true beside properties was accepted)
#   kubectl_events+create_secret+kubectl_create_kustomization_directory daemonset_history statefulset_history
#   certificates persistent_volume_claims storage_class swagger persistent_volumes job wait kubectl_create_error
#   create_job RESTMapper_evaluation assert_short_name assert_singular_name ambiguous_shortname assert_categories
#   kubectl_explain role stateful_set daemonset kubectl_get retrieve_multiple kubectl_sort_by kubectl_all_namespace
#   configmap secrets create_secret service_accounts pod_templates nodes kubectl_apply_deployments
#   kubectl_delete_allnamespaces kubectl_create_dry_run kubectl_create_validate;
#   cluster_management with kubectl 1.33.1 first on PATH (its -v=6 lines), clusterroles with kubectl 1.28 (its
#   lower-case "warning: deleting cluster-scoped resources").
# Not run to the end, none for a server cause: wait_with_non_existence_check (wait.sh as stored wants
#   `kubectl wait --wait-for-creation`, which no kubectl here has, 1.33.1 included); deprecated_api (get.sh as stored
#   asks for podsecuritypolicies.v1beta1, gone since 1.25; 1.32's version, a CRD with a deprecated version, was checked
#   by hand: "Warning: example.com/v1beta1 DeprecatedKind is deprecated; use example.com/v1 DeprecatedKind", and
#   --warnings-as-errors fails).
# Run 2026-12-05 (kubectl v1.32.4; the groups above were not run again: /tmp/k8s-kcmdcore was gone): the tree was
# rebuilt as /tmp/k8s-kcmd2, read file by file from kubernetes/kubernetes, whose stored versions are of mixed eras:
#   - reconstructed, not upstream: hack/lib/init.sh (log and util helpers the groups call; version.sh, golang.sh and
#     etcd.sh only build and start binaries), third_party/forked/shell2junit/sh2ju.sh (juLog runs the group in an
#     errexit subshell and returns its status; no XML), test/cmd/legacy-script.sh cut after runTests' WHAT branch;
#     hack/lib/test.sh is the stored newer (non-eval) one; test/cmd files not fetched are placeholders;
#   - apply.sh, crd.sh, template-output.sh and generic-resources.sh as stored are older than 1.32 and were changed only
#     where 1.32 lacks what they use, each change marked "1.32:" in the file: apiextensions.k8s.io/v1 CRDs (v1beta1 gone
#     since 1.22; a root keeping unknown fields, as a v1beta1 CRD without schema did), batch/v1 CronJob,
#     --prune-allowlist for --prune-whitelist, no --server-dry-run / `kubectl convert` (gone from kubectl), "may not
#     change once set" for a changed clusterIP (dual-stack's message), configmaps looked for by name (every namespace
#     holds kube-root-ca.crt); request-timeout.sh's watch check looks for kubectl 1.32's -v=6 line ("Unable to decode
#     an event from the watch stream:" then "context deadline exceeded" or "...Client.Timeout or context cancellation
#     while reading body)", whichever of kubectl's two 1s timeouts fires first: the server keeps the watch open)
#     instead of an older Go's "Client.Timeout exceeded while reading body" (marked "kcmd2:"); diff.sh, run.sh,
#     auth_whoami.sh and debug.sh are recent and unchanged (debug.sh without run_kubectl_debug_pod_tests, which needs
#     a newer legacy-script.sh helper, create_and_use_new_restricted_namespace);
#   - fixtures written to what the scripts assert where the stored one was of another era (pod.yaml and pod-changed.yaml
#     registry.k8s.io images, retainKeys deployment-after.yaml apps/v1, hack/testdata/CRD foo*/bar/multi-crd-list* with
#     fields at the root as crd.sh reads them, multi-resource-{list,json,rclist,svclist}[-modify].json, prune-reap/b.yml,
#     hack/testdata/recursive/*, tls.key/crt, kustomize/configmap.yaml, cassandra/controller.yaml).
#   Passing (15): kubectl_apply kubectl_server_side_apply crd kubectl_diff kubectl_diff_same_names kubectl_run
#   kubectl_auth_whoami kubectl_request_timeout template_output lists kubectl_debug_node kubectl_debug_general
#   kubectl_debug_general_node kubectl_debug_baseline kubectl_debug_baseline_node, after three server fixes: a volume
#   without a source defaults to emptyDir (SetDefaults_Volume); OpenAPI v2 publishes a CRD version whose root keeps
#   unknown fields as a bare object, and its protobuf leaves an object without properties without them (kubectl's
#   client-side validation of a List's custom resources refused every field). Plus --service-cidr 10.0.0.0/24 below.
#   Not run to the end, none for a server cause: multi_resources (every file-based case passes; the last section creates
#   from https://raw.githubusercontent.com/..., and this machine has no internet); recursive_resources (stops at
#   `kubectl replace -f hack/testdata/recursive/pod-modify`: replacing a pod from a manifest drops the service account
#   volume the ServiceAccount admission plugin added, which kube-apiserver refuses likewise; test-cmd.sh runs
#   kube-apiserver with --disable-admission-plugins=ServiceAccount,..., which the master does not offer); convert
#   (needs the kubectl-convert plugin, not installed); kubectl_debug_pod (see above).
# Run 2026-12-05, second (branch kcmd3, kubectl v1.32.4 unless said): the 48 groups of 12-03 and the 15 above, on a tree
#   completed as /tmp/k8s-kcmd3 (a copy of /tmp/k8s-kcmd2; its PROVENANCE.txt names every file read, changed or
#   reconstructed): core.sh, apps.sh, get.sh, create.sh, discovery.sh, storage.sh, batch.sh, certificate.sh, events.sh,
#   delete.sh, wait.sh, rbac.sh, node-management.sh, authorization.sh, exec.sh and ~60 fixtures read file by file.
#   Test-file era, adapted and marked "kcmd3" (none a server cause): \\\"x\\\" literals and quoted object arguments of
#   the eval-era files written for the non-eval test.sh; "Warning: deleting cluster-scoped resources" (no kubectl here,
#   1.27 included, prints the stored lower-case "warning:", so 1.28 is no longer needed for clusterroles); get all's
#   autoscaling/v2 (the preferred version since 1.23) and get.sh's --subresource checks as the later get.sh has them.
#   All 63 pass (cluster_management with kubectl 1.33.1 first on PATH). kubectl_events asserts that no Warning event
#   exists cluster-wide: it passes in a fresh master, not after groups whose pods the master's scheduler reports
#   FailedScheduling for (test-cmd runs no scheduler), so run it first or alone.
#   Never run before, run now: authorization (passes after one server fix: JSON indented for curl/wget/browsers and
#   ?pretty=true, /version always indented, as isPrettyPrint and WriteRawJSON; its SubjectAccessReview for bob is
#   allowed only when clusterroles ran first in the same master, as test-cmd's RBAC,AlwaysAllow allows it outright),
#   kubectl_exec_pod, kubectl_exec_resource_name (pass); impersonation fails, not for a server cause: user1 may not
#   create a CSR under RBAC alone, which test-cmd's AlwaysAllow permits (the master offers no AlwaysAllow mode).
# Checked 2026-12-07 (branch testcmd, kubectl v1.32.4), not through this driver: the commands of groups never run
#   before, translated by hand into kubectl commands against a standalone master (--service-cidr 10.0.0.0/24, admin
#   token "admin-token"): save_config, kubectl_local_proxy, kubectl_version, kubectl_results, exec_credentials,
#   recursive_resources (its pods naming serviceAccountName and automountServiceAccountToken: false, see below) and
#   runTests' inline blocks (api-resources | xargs get, auth can-i, auth reconcile). Three server fixes: a pod update
#   keeps the priority and preemptionPolicy the Priority admission set (replace from a manifest was refused); the TLS
#   certificate request names the client CA (authentication.sh's openssl check found none); /version in
#   version.Info's field order. Left as they are: replacing a pod from a manifest that does not name its service account
#   (save-config.sh step 3) is refused as kube-apiserver refuses it with its default ServiceAccount admission, which
#   test-cmd.sh disables (--disable-admission-plugins is not offered); a client certificate user and impersonation need
#   test-cmd's AlwaysAllow; proxy.sh's `/apis/extensions/ 200` gets 404 (no extensions group is served, as in 1.32 as
#   far as its source reads; not checked against a running kube-apiserver).
# Run 2026-12-08 (branch kcmdapply, kubectl v1.32.4, KCMD_ADDRESS=127.0.0.89): the tree rebuilt again as
#   /tmp/kcmdapply/k8s (its PROVENANCE.txt names each file's source). What the index holds, for finding the version
#   nearest 1.32: read_file of kubernetes/kubernetes gives one stored version (apply.sh's is pre-1.22: v1beta1 CRDs,
#   --server-dry-run); find_files path=<file> lists forks that hold it, whose versions differ (eldarashadowthorn/
#   kubernetes' apply.sh is of the 1.23-1.25 era: v1 CRDs, the server-side apply migration tests, no applyset tests);
#   find_string on a line only some versions have returns ids of other stored versions (diff.sh: a 1.2x one, id
#   230510926, and a 1.35-era one, id 60338711944, whose kubectl diff warnings 1.32 does not print). kubectl 1.32 has no
#   --prune-whitelist (apply.sh changed to --prune-allowlist). Passing: kubectl_apply kubectl_server_side_apply
#   kubectl_diff kubectl_diff_same_names kubectl_run kubectl_auth_whoami lists template_output, the second after a
#   server fix (a create's managed fields are the object as sent, before PrepareForCreate and admission).
#   kubectl_request_timeout passes or fails by chance: request-timeout.sh of the 1.3x era wants "Timeout" in the
#   --v=5 line, which kubectl prints only when the http client's timer beats the request context's deadline.
# Settings (environment): KCMD_STATE_DIR (default: a new temporary directory; the master's data and logs, one log per
#   group), KCMD_ADDRESS (default 127.0.0.1: the loopback address the master listens on, for a machine whose users
#   each have their own), KCMD_API_PORT / KCMD_CLUSTER_PORT (default: free ports on it, never the E2E lock's fixed
#   6443/4050),
#   ORCH_BUILD_DIR (a built master in $ORCH_BUILD_DIR/master; default: built into the state directory).
# Every group runs in its own shell, so one failing group does not stop the others; the summary names each group's
# result and, for a failure, the first failing assertion (file:line and expected/got) from its log.
set -uo pipefail
ORCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

[ -n "${KUBE_ROOT:-}" ] || die "KUBE_ROOT is not set: point it at a kubernetes v1.32 checkout (see this script's header)"
KUBE_ROOT="$(cd "$KUBE_ROOT" && pwd)" || die "KUBE_ROOT '$KUBE_ROOT' is not a directory"
for f in hack/lib/init.sh hack/lib/test.sh test/cmd/legacy-script.sh third_party/forked/shell2junit/sh2ju.sh; do
  [ -f "$KUBE_ROOT/$f" ] || die "$KUBE_ROOT/$f is missing (see this script's header for the folders needed)"
done
command -v kubectl >/dev/null || die "kubectl is not on PATH"
groups=("$@"); [ ${#groups[@]} -gt 0 ] || groups=(pod service rc rs deployment namespace)

address="${KCMD_ADDRESS:-127.0.0.1}"
free_port() { # a loopback TCP port nothing listens on, from a range the fixed E2E ports are not in
  local p
  for p in $(shuf -i 20000-29999 -n 50); do
    ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
  die "no free port found"
}

state="${KCMD_STATE_DIR:-$(mktemp -d /tmp/kubectl-cmd.XXXXXX)}"
mkdir -p "$state/master" "$state/logs" "$state/home"
api_port="${KCMD_API_PORT:-$(free_port)}"
cluster_port="${KCMD_CLUSTER_PORT:-$(free_port)}"
server="https://$address:$api_port"

build_dir="${ORCH_BUILD_DIR:-$state/bin}"
if [ ! -f "$build_dir/master/orchestrator-master.dll" ]; then
  echo "• building the master into $build_dir/master"
  dotnet build "$ORCH_ROOT/src/Orchestrator.Master" -c Release -o "$build_dir/master" -nologo -v quiet \
    --disable-build-servers >"$state/logs/build.log" 2>&1 || die "the build failed (log: $state/logs/build.log)"
fi

# test-cmd's apiserver reads hack/testdata/auth-tokens.csv, whose admin token is "admin-token", and some tests send
# it themselves (run_swagger_tests curls /openapi/v2 with it): the master's admin token file is seeded with it.
[ -s "$state/master/token" ] || (umask 077 && echo admin-token >"$state/master/token")
echo "• starting the master alone on $server (state: $state)"
# --service-cidr: test-cmd.sh starts kube-apiserver with --service-cluster-ip-range=10.0.0.0/24, and tests name addresses
# in it (apply.sh's service-revision2.yaml asks for clusterIP 10.0.0.12; kubernetes-service.yaml holds 10.0.0.1).
dotnet "$build_dir/master/orchestrator-master.dll" --data-dir "$state/master" --api-address "$address" \
  --api-port "$api_port" --cluster-address "$address" --cluster-port "$cluster_port" --service-cidr 10.0.0.0/24 \
  >"$state/logs/master.log" 2>&1 &
master_pid=$!
trap 'kill "$master_pid" 2>/dev/null; wait "$master_pid" 2>/dev/null' EXIT
for i in $(seq 1 120); do
  curl -sfk "$server/readyz" >/dev/null 2>&1 && [ -s "$state/master/token" ] && break
  kill -0 "$master_pid" 2>/dev/null || die "the master exited during start-up (see $state/logs/master.log)"
  [ "$i" -eq 120 ] && die "the master did not answer on $server within 60 s (see $state/logs/master.log)"
  sleep 0.5
done

# What legacy-script.sh's setup() makes for kube-apiserver: a context "test" (the tests switch its namespace with
# create_and_use_new_namespace), here with the master's admin token. HOME is private so ~/.kube/config is not read.
export HOME="$state/home"
export KUBECONFIG="$HOME/.kube/config"
kubectl config set-credentials test-admin --token "$(cat "$state/master/token")" >/dev/null
kubectl config set-cluster local --insecure-skip-tls-verify --server "$server" >/dev/null
kubectl config set-context test --user test-admin --cluster local >/dev/null
kubectl config use-context test >/dev/null
# test-cmd.sh's create_node: the node "127.0.0.1" some tests name (`kubectl expose nodes 127.0.0.1`), a Node object only.
kubectl create -f - >/dev/null <<'JSON' || die "could not create the Node 127.0.0.1 that test-cmd.sh creates"
{"kind": "Node", "apiVersion": "v1", "metadata": {"name": "127.0.0.1"},
 "status": {"capacity": {"memory": "1Gi", "cpu": "4", "pods": "110"},
            "allocatable": {"memory": "1Gi", "cpu": "4", "pods": "110"}}}
JSON

# test-cmd's cluster is kube-apiserver and kube-controller-manager: no StorageClass exists (run_storage_class_tests
# asserts none). The master, like k3s, makes its default class "local-path" once at start-up and leaves it deleted when
# an administrator deletes it (until the next start), so it is deleted here as soon as it appears.
for i in $(seq 1 60); do
  kubectl get storageclass local-path >/dev/null 2>&1 && { kubectl delete storageclass local-path >/dev/null; break; }
  sleep 0.5
done

run_group() { # group: one runTests with WHAT=group, from KUBE_ROOT as test-cmd.sh runs it
  local group=$1
  kubectl config set-context test --namespace=default >/dev/null
  mkdir -p "$state/tmp-$group"
  # A new bash process, not a subshell: errexit, which the tests rely on to stop at a failed assertion, is off
  # everywhere below a command whose status the caller tests, so nothing here is sourced under `||` or `&&` (init.sh
  # turns errexit on; legacy-script.sh's record_command canary fails the run if errexit does not propagate).
  (cd "$KUBE_ROOT" && WHAT="${group//+/ }" SECURE_API_PORT="$api_port" API_HOST="$address" ALLOW_SKEW=1 \
    THIS_PLATFORM_BIN="$(dirname "$(command -v kubectl)")" KUBE_OUTPUT_HOSTBIN="$(dirname "$(command -v kubectl)")" \
    KUBE_JUNIT_REPORT_DIR="$state/junit" KUBE_TEMP="$state/tmp-$group" KUBE_ROOT="$KUBE_ROOT" \
    bash -c 'source hack/lib/init.sh; source hack/lib/test.sh; source test/cmd/legacy-script.sh
      kube::util::ensure-gnu-sed
      CONTEXT=test
      SUPPORTED_RESOURCES=("*")
      # core.sh names one group run_secrets_test (no "s") and diff.sh one run_kubectl_diff_same_names (no suffix):
      # WHAT=secrets and WHAT=kubectl_diff_same_names reach them through these aliases
      for what in $WHAT; do
        if ! declare -F "run_${what}_tests" >/dev/null && declare -F "run_${what}_test" >/dev/null; then
          eval "run_${what}_tests() { run_${what}_test; }"
        elif ! declare -F "run_${what}_tests" >/dev/null && declare -F "run_${what}" >/dev/null; then
          eval "run_${what}_tests() { run_${what}; }"
        fi
      done
      runTests') >"$state/logs/$group.log" 2>&1
}

first_failure() { # log: the first failing assertion (test.sh prints "FAIL" then Expected/Got), else the failed command
  local clean='s/\x1b\[[0-9;]*m//g; s/\x1b(B//g'
  if grep -aq -E 'FAIL!?$' "$1"; then
    grep -a -m1 -A6 -E 'FAIL!?$' "$1" | sed "$clean" | grep -v '^\s*$' | head -8
  else # errexit stopped the group at a command: its last output lines
    grep -a -m1 -B4 'Error when running' "$1" | sed "$clean" | head -5
  fi
}

status=0
summary=()
for group in "${groups[@]}"; do
  echo "• run_${group}_tests"
  run_group "$group"; rc=$?
  if [ $rc -eq 0 ]; then
    summary+=("PASS run_${group}_tests")
  else
    status=1
    summary+=("FAIL run_${group}_tests (log: $state/logs/$group.log)")
    first_failure "$state/logs/$group.log" | sed 's/^/     /'
  fi
done
echo
printf '%s\n' "${summary[@]}"
exit $status
