#!/usr/bin/env bash
# Runs the official Python client's own end-to-end tests (kubernetes-client/python: kubernetes/e2e_test and, in
# releases that have it, kubernetes/aio/e2e_test) against a cluster started by deploy/up.sh, as its CI runs them
# against a kind cluster: pytest with the client's package on PYTHONPATH and a kubeconfig (base.py reads KUBECONFIG,
# default ~/.kube/config, and its current context).
#
# Usage: PYTHON_CLIENT_ROOT=/path/to/python [DURATIONPY_ROOT=/path/to/durationpy] tests/client-e2e/python/run.sh [--up]
#          [--dynamic] [pytest arguments...]
#   PYTHON_CLIENT_ROOT  a checkout of kubernetes-client/python, preferably the release of the cluster's Kubernetes
#                       (client 32.x for 1.32); not part of this repository. Get it with, for example:
#                         git clone --depth 1 --branch v32.0.1 https://github.com/kubernetes-client/python \
#                           "$PYTHON_CLIENT_ROOT"
#                       Its sources are only read: pytest writes no cache and Python no bytecode there.
#   DURATIONPY_ROOT     a checkout of icholy/durationpy (the client's one dependency Debian 12 does not package; any
#                       0.5+), e.g. git clone --depth 1 https://github.com/icholy/durationpy; not needed when
#                       `python3 -c 'import durationpy'` works already.
#   --up                start the cluster first (deploy/up.sh --registry with the registry mirror below) and stop it
#                       (deploy/down.sh) at the end; it uses the default addresses, so hold the E2E lock:
#                         flock -w 900 /tmp/orchestrator-e2e.lock tests/client-e2e/python/run.sh --up
#                       Without --up the cluster must already run, its node started with
#                       ORCHESTRATOR_NODE_REGISTRY_MIRROR=$PYCLIENT_REGISTRY (checked; a warning otherwise).
#                       --up also samples resource usage every 2 s (ORCHESTRATOR_NODE_HOUSEKEEPING_INTERVAL, the
#                       kubelet's --housekeeping-interval; default 10): test_metrics_utilities_integration (client 36)
#                       wants a pod's metrics 10 s after it runs, and metrics.k8s.io, as metrics-server, serves a pod
#                       only once it was sampled twice (10-20 s at the default; upstream's CI has no metrics-server and
#                       skips the test on the 404).
#   --dynamic           also python-base's dynamic client tests (kubernetes/base/dynamic/test_client.py and
#                       test_discovery.py: they read base.py's configuration too; the client's tox "functional" runs
#                       them, its e2e workflow does not). Their CRDs are apiextensions.k8s.io/v1beta1, which Kubernetes
#                       stopped serving in 1.22: crd_v1_shim.py beside this script (a pytest plugin, always loaded)
#                       sends them as v1 with the schema v1 requires. test_cache_decoder_resource_and_subresource
#                       cannot pass against any server: it compares two Resource objects of two DynamicClients with ==,
#                       which the client's Resource does not define (identity).
#   pytest arguments    default: -v over every e2e_test folder of the client; e.g. `-k test_pod_apis` or a file
#                       (paths relative to PYTHON_CLIENT_ROOT).
# Images: the tests name Docker Hub's busybox, nginx, nginx:1.15.4 and python, and k8s.gcr.io/pause:2.0; no internet
# registry is reachable here, so they come as a user without one would provide them: small local images pushed as
# library/<name>:<tag> into the cluster's registry (Debian's docker-registry, deploy/lib/registry.sh, on
# $PYCLIENT_REGISTRY), which the node uses as its Docker Hub mirror (node flag --registry-mirror, here through its
# environment variable ORCHESTRATOR_NODE_REGISTRY_MIRROR, which deploy/up.sh passes on). Stand-ins, not the real images:
#   busybox:latest      the demo busybox:latest of deploy/images/build.sh (BusyBox from source, built by deploy/up.sh)
#   nginx, nginx:1.15.4 Debian's busybox-static, `httpd -f -p 80` serving nginx's welcome page
#   python:latest       this machine's Debian python3 (binary, shared libraries, standard library) with busybox-static
#   k8s.gcr.io/pause:2.0  not a Docker Hub image (the mirror serves only those): the demo orchestrator/pause:1 tagged in
#                       the local Docker engine, which the node shares (as `orchctl image load` does; IfNotPresent)
# Settings (environment): PYCLIENT_STATE_DIR (default: a new temporary directory: kubeconfig, logs, junit.xml),
#   PYCLIENT_REGISTRY (127.0.0.1:5000, deploy/up.sh --registry's), ORCH_CONTEXT (orchestrator: the kubeconfig context
#   deploy/up.sh writes).
# Prints one line per test and a summary; exits 0 when every test passed, 1 otherwise, 2 when it could not run.
set -uo pipefail
ORCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
source "$ORCH_ROOT/deploy/lib/common.sh"
fail() { printf 'error: %s\n' "$*" >&2; exit 2; }

up=0 dynamic=0
while [ $# -gt 0 ]; do
  case "$1" in
    --up) up=1; shift ;;
    --dynamic) dynamic=1; shift ;;
    *) break ;;
  esac
done
[ -n "${PYTHON_CLIENT_ROOT:-}" ] \
  || fail "PYTHON_CLIENT_ROOT is not set: point it at a kubernetes-client/python checkout (see this script's header)"
client="$(cd "$PYTHON_CLIENT_ROOT" && pwd)" || fail "PYTHON_CLIENT_ROOT '$PYTHON_CLIENT_ROOT' is not a directory"
[ -f "$client/kubernetes/e2e_test/base.py" ] \
  || fail "$client/kubernetes/e2e_test/base.py is missing: not a client checkout"
command -v kubectl >/dev/null || fail "kubectl is not on PATH (deploy/up.sh needs it too)"
registry="${PYCLIENT_REGISTRY:-127.0.0.1:5000}"
state="${PYCLIENT_STATE_DIR:-$(mktemp -d /tmp/pyclient-e2e.XXXXXX)}"
mkdir -p "$state/logs"
python=/usr/bin/python3 # Debian's, whose packages below are the client's dependencies (not a pyenv or venv one)

# The client's requirements.txt (and test-requirements.txt's pytest), from Debian 12.
packages=(python3 python3-pytest python3-urllib3 python3-yaml python3-dateutil python3-six python3-certifi
  python3-websocket python3-requests python3-requests-oauthlib python3-google-auth python3-oauthlib
  busybox-static docker-registry curl jq)
[ -d "$client/kubernetes/aio" ] && packages+=(python3-aiohttp)
ensure_packages "${packages[@]}"
pythonpath="$client"
if ! "$python" -c 'import durationpy' 2>/dev/null; then
  [ -n "${DURATIONPY_ROOT:-}" ] \
    || fail "python3 has no durationpy (not packaged by Debian 12): set DURATIONPY_ROOT (see this script's header)"
  [ -f "$DURATIONPY_ROOT/durationpy/__init__.py" ] || fail "$DURATIONPY_ROOT/durationpy/__init__.py is missing"
  pythonpath="$client:$(cd "$DURATIONPY_ROOT" && pwd)"
fi
PYTHONPATH="$pythonpath" "$python" -c 'import kubernetes' 2>"$state/logs/import.log" \
  || fail "the client does not import: $(tail -n 1 "$state/logs/import.log")"
version=$(PYTHONPATH="$pythonpath" "$python" -c 'import kubernetes; print(kubernetes.__version__)')

if [ $up -eq 1 ]; then
  step "starting the cluster: deploy/up.sh --registry, node mirror $registry (log: $state/logs/up.log)"
  ORCH_REGISTRY="$registry" ORCHESTRATOR_NODE_REGISTRY_MIRROR="$registry" \
    ORCHESTRATOR_NODE_HOUSEKEEPING_INTERVAL="${ORCHESTRATOR_NODE_HOUSEKEEPING_INTERVAL:-2}" \
    "$ORCH_ROOT/deploy/up.sh" --registry \
    >"$state/logs/up.log" 2>&1 || fail "deploy/up.sh failed: $(tail -n 2 "$state/logs/up.log")"
  trap '"$ORCH_ROOT/deploy/down.sh" >"$state/logs/down.log" 2>&1' EXIT
else
  node_pid=$(running_pid node)
  [ -n "$node_pid" ] || fail "no cluster runs (deploy/up.sh's state $ORCH_STATE_DIR): start it, or pass --up"
  tr '\0' '\n' <"/proc/$node_pid/environ" 2>/dev/null | grep -qx "ORCHESTRATOR_NODE_REGISTRY_MIRROR=$registry" \
    || step "warning: the node was not started with ORCHESTRATOR_NODE_REGISTRY_MIRROR=$registry:" \
      "Docker Hub images will not be found"
  "$ORCH_ROOT/deploy/lib/registry.sh" start "$registry" >"$state/logs/registry.log" 2>&1 \
    || fail "the registry did not start: $(tail -n 1 "$state/logs/registry.log")"
fi

# --- images -------------------------------------------------------------------------------------------------------
# (as deploy/images/build.sh: root file systems from this machine's files, docker import; labelled with a hash of
# what made them, so a second run only pushes)
recipe_hash=$(sed -n '/^# --- images/,/^# --- end of images/p' "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
image_current() {
  [ "$(docker image inspect -f '{{index .Config.Labels "io.orchestrator.source-hash"}}' "$1" 2>/dev/null)" \
    = "$recipe_hash" ]
}

busybox_root() { # dir: Debian's busybox-static with its applets in /bin
  local root=$1 applet
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  chmod 1777 "$root/tmp"
}

build_nginx() { # the page the tests look for (<h1>Welcome to nginx!</h1>), on port 80 as nginx's image serves it
  image_current pyclient-e2e/nginx:latest && return 0
  local root; root=$(mktemp -d)
  busybox_root "$root"
  mkdir -p "$root/usr/share/nginx/html"
  cat >"$root/usr/share/nginx/html/index.html" <<'HTML'
<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>
</body>
</html>
HTML
  tar -C "$root" -c . | docker import --change 'CMD ["httpd", "-f", "-v", "-p", "80", "-h", "/usr/share/nginx/html"]' \
    --change 'EXPOSE 80' --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL io.orchestrator.source-hash=$recipe_hash" \
    --change 'LABEL org.opencontainers.image.description="Local stand-in for nginx: busybox httpd"' \
    - pyclient-e2e/nginx:latest >/dev/null || return 1
  rm -rf "$root"
}

build_python() { # the interpreter and standard library of Debian's python3, for the port-forward test's port_server.py
  image_current pyclient-e2e/python:latest && return 0
  local root lib binary; root=$(mktemp -d)
  busybox_root "$root"
  binary=$(readlink -f /usr/bin/python3)
  mkdir -p "$root/usr/bin" "$root/usr/local/bin"
  cp "$binary" "$root$binary"
  ldd "$binary" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"
  done
  local stdlib; stdlib=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
  mkdir -p "$root$stdlib"
  tar -C "$stdlib" -c --exclude=test --exclude=idlelib --exclude=tkinter --exclude=turtledemo --exclude=ensurepip \
    --exclude=__pycache__ --exclude=site-packages --exclude=dist-packages . | tar -C "$root$stdlib" -x
  # the C extensions of lib-dynload link libraries of their own (ssl, ffi, sqlite, ...)
  for lib in $(find "$root$stdlib/lib-dynload" -name '*.so' -exec ldd {} \; 2>/dev/null \
               | grep -o '/[^ ]*' | sort -u); do
    [ -e "$root$lib" ] || { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
  done
  for name in python python3; do
    ln -sf "$binary" "$root/usr/local/bin/$name"; ln -sf "$binary" "$root/usr/bin/$name"
  done
  tar -C "$root" -c . | docker import --change 'CMD ["python3"]' \
    --change 'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'ENV LANG=C.UTF-8' \
    --change "LABEL io.orchestrator.source-hash=$recipe_hash" \
    --change "LABEL org.opencontainers.image.description=\"Local stand-in for python: $("$python" --version)\"" \
    - pyclient-e2e/python:latest >/dev/null || return 1
  rm -rf "$root"
}

push() { # local-image docker-hub-name:tag
  docker tag "$1" "$registry/library/$2" && docker push -q "$registry/library/$2" >/dev/null
}

step "images: stand-ins pushed to $registry as Docker Hub's library/* (log: $state/logs/images.log)"
{
  docker image inspect busybox:latest >/dev/null 2>&1 || "$ORCH_ROOT/deploy/images/build.sh" || exit 1
  docker image inspect orchestrator/pause:1 >/dev/null 2>&1 || "$ORCH_ROOT/deploy/images/build.sh" || exit 1
  build_nginx && build_python || exit 1
  push busybox:latest busybox:latest && push pyclient-e2e/nginx:latest nginx:latest \
    && push pyclient-e2e/nginx:latest nginx:1.15.4 && push pyclient-e2e/python:latest python:latest || exit 1
  docker tag orchestrator/pause:1 k8s.gcr.io/pause:2.0
} >"$state/logs/images.log" 2>&1 || fail "the images could not be made or pushed: $(tail -n 2 "$state/logs/images.log")"
# --- end of images ------------------------------------------------------------------------------------------------

# A kubeconfig of its own, the context deploy/up.sh wrote as current (base.py loads the current context).
kubectl config view --minify --flatten --context "$ORCH_CONTEXT" >"$state/kubeconfig" 2>"$state/logs/kubeconfig.log" \
  || fail "no kubeconfig context '$ORCH_CONTEXT': $(tail -n 1 "$state/logs/kubeconfig.log")"
server=$(KUBECONFIG="$state/kubeconfig" kubectl config view -o jsonpath='{.clusters[0].cluster.server}')
KUBECONFIG="$state/kubeconfig" kubectl get --raw /readyz >/dev/null 2>&1 \
  || fail "the cluster at $server does not answer"

args=("$@")
if [ ${#args[@]} -eq 0 ]; then
  args=(-v kubernetes/e2e_test)
  [ -d "$client/kubernetes/aio/e2e_test" ] && args+=(kubernetes/aio/e2e_test)
fi
[ $dynamic -eq 1 ] && args+=(kubernetes/base/dynamic/test_client.py kubernetes/base/dynamic/test_discovery.py)
step "pytest: client $version ($client) against $server (log: $state/logs/pytest.log)"
started=$(date -u +%FT%TZ)
(cd "$client" && KUBECONFIG="$state/kubeconfig" PYTHONPATH="$pythonpath:$ORCH_ROOT/tests/client-e2e/python" \
  PYTHONDONTWRITEBYTECODE=1 "$python" -m pytest -p no:cacheprovider -p crd_v1_shim -rfEs \
  --junitxml="$state/junit.xml" "${args[@]}") \
  >"$state/logs/pytest.log" 2>&1
status=$?

# One line per test (junit.xml), then pytest's own summary line.
"$python" - "$state/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
counts = {}
for case in ET.parse(sys.argv[1]).iter("testcase"):
    outcome, why = "pass", ""
    for tag, name in (("failure", "FAIL"), ("error", "ERROR"), ("skipped", "skip")):
        node = case.find(tag)
        if node is not None:
            outcome, why = name, (node.get("message") or "").splitlines()[0][:150] if node.get("message") else ""
    counts[outcome] = counts.get(outcome, 0) + 1
    print(f"{outcome:5} {case.get('classname')}.{case.get('name')}" + (f"  ({why})" if why else ""))
print("summary: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
PY
say "pytest: $(tail -n 1 "$state/logs/pytest.log") (started $started; log $state/logs/pytest.log)"
[ $status -eq 0 ] && exit 0 || exit 1
