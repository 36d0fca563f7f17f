# Shared helpers for the deploy scripts. Source it; every function prints one line on failure and exits non-zero.
ORCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ORCH_STATE_DIR="${ORCH_STATE_DIR:-$ORCH_ROOT/.state}"
ORCH_API_ADDRESS="${ORCH_API_ADDRESS:-127.0.0.1}"
ORCH_API_PORT="${ORCH_API_PORT:-6443}"
ORCH_CLUSTER_PORT="${ORCH_CLUSTER_PORT:-4050}"
ORCH_NODE_ADDRESS="${ORCH_NODE_ADDRESS:-127.0.0.1}"
ORCH_NODE_NAME="${ORCH_NODE_NAME:-$(hostname | tr "[:upper:]" "[:lower:]")}"
ORCH_CONTEXT="${ORCH_CONTEXT:-orchestrator}"
# the upstream name servers of cluster DNS (the kubelet's resolv-conf)
ORCH_RESOLV_CONF="${ORCH_RESOLV_CONF:-/etc/resolv.conf}"
ORCH_HEALTHZ_PORT="${ORCH_HEALTHZ_PORT:-10248}"
ORCH_BUILD_DIR="${ORCH_BUILD_DIR:-$ORCH_STATE_DIR/bin}"

say()  { printf '%s\n' "$*"; }
step() { printf '• %s\n' "$*"; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

apt_updated=0
# Installs the Debian packages that are missing (one apt-get update per run).
ensure_packages() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}): run as root or install them first"
  step "installing ${missing[*]}"
  if [ $apt_updated -eq 0 ]; then
    apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed"
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || die "apt-get install ${missing[*]} failed"
}

# Node.js 18+ and npm, which build the dashboard (Debian 12's nodejs is 18; a nodejs that bundles npm needs no npm package).
ensure_node() {
  command -v node >/dev/null 2>&1 || ensure_packages nodejs
  command -v npm >/dev/null 2>&1 || ensure_packages npm
  node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' \
    || die "the dashboard needs Node.js 18 or newer (found $(node --version))"
}

# Closes every open file of this (sub)shell above stderr: what a caller held open (a lock taken with
# `flock FILE deploy/up.sh`) must not be inherited by a process that outlives the script.
close_inherited_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
  done
  return 0
}

# Starts a daemon detached from the caller: in a session of its own (setsid: no controlling terminal, not in the
# caller's process group), stdin from /dev/null, output appended to LOG, and none of the caller's other open files.
# Writes its pid to PIDFILE.
start_detached() { # pidfile log command...
  local pidfile=$1 log=$2; shift 2
  (
    close_inherited_fds
    exec setsid "$@" </dev/null >>"$log" 2>&1
  ) &
  echo $! >"$pidfile"
}

# Makes sure a Docker engine answers on /var/run/docker.sock: installs docker.io and starts dockerd when absent.
ensure_docker() {
  if docker version >/dev/null 2>&1; then return 0; fi
  if ! command -v dockerd >/dev/null 2>&1; then ensure_packages docker.io; fi
  command -v dockerd >/dev/null 2>&1 || die "dockerd is not installed and could not be installed"
  if ! docker version >/dev/null 2>&1; then
    step "starting dockerd"
    mkdir -p "$ORCH_STATE_DIR"
    # the daemon outlives this script: it must not keep the caller's open files (a lock held around a test run)
    start_detached "$ORCH_STATE_DIR/dockerd.pid" "$ORCH_STATE_DIR/dockerd.log" dockerd
    for _ in $(seq 1 60); do
      docker version >/dev/null 2>&1 && return 0
      sleep 0.5
    done
    die "dockerd did not start within 30 s (see $ORCH_STATE_DIR/dockerd.log)"
  fi
}

# pid of a running cluster process (master|node), or nothing.
running_pid() {
  local f="$ORCH_STATE_DIR/$1.pid"
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

node_processes() { # pids of the node processes running on this machine, of any cluster: dotnet [exec] …/orchestrator-node.dll, or the apphost
  local f args
  for f in /proc/[0-9]*/cmdline; do
    { mapfile -d '' -t args <"$f"; } 2>/dev/null || continue
    [ ${#args[@]} -gt 0 ] || continue
    case "${args[0]##*/}" in
      orchestrator-node) ;;
      dotnet) [ "${args[1]:-}" = exec ] && args=("${args[@]:1}")
              [ "${args[1]:-}" != "" ] && [ "${args[1]##*/}" = orchestrator-node.dll ] || continue ;;
      *) continue ;;
    esac
    f=${f#/proc/}; echo "${f%/cmdline}"
  done
  return 0
}

# Nodes make ClusterIPs local addresses of the pod bridge (label orch0:svc) and lab nodes add their DNS address
# (label orch0:dns). Every node process on the machine serves the ClusterIPs (a lab, the E2E tests, another cluster):
# take them away only when no node process of the project is left running on this machine.
release_node_addresses() {
  command -v ip >/dev/null 2>&1 && ip link show orch0 >/dev/null 2>&1 || return 0
  local running label
  running=$(node_processes | wc -l)
  if [ "$running" -gt 0 ]; then
    [ -n "$(ip -4 -o addr show dev orch0 label orch0:svc)" ] \
      && step "left the ClusterIP addresses on orch0: $running other node process(es) still serve them"
    return 0
  fi
  for label in orch0:svc orch0:dns; do
    if [ -n "$(ip -4 -o addr show dev orch0 label "$label")" ]; then
      ip addr flush dev orch0 label "$label" 2>/dev/null && step "removed the $label addresses from orch0" || true
    fi
  done
}

# What every cluster start needs on this machine: the tools, a Docker engine, the build and the demo images.
prepare_machine() {
  command -v dotnet >/dev/null 2>&1 || die "the .NET SDK (dotnet) is not on PATH"
  command -v kubectl >/dev/null 2>&1 || die "kubectl is not on PATH"
  mkdir -p "$ORCH_STATE_DIR/logs" "$ORCH_STATE_DIR/master"

  step "Docker engine"
  ensure_docker
  ensure_packages iproute2 iptables # iptables: the node's NetworkPolicy rules on the pod bridge

  step "building Orchestrator"
  "$ORCH_ROOT/deploy/lib/build.sh"

  step "demo images"
  "$ORCH_ROOT/deploy/images/build.sh"
}
