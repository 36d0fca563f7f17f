# Shared helpers for the deploy scripts. Source it; every function prints one line on failure and exits non-zero.
ORCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ORCH_STATE_DIR="${ORCH_STATE_DIR:-$ORCH_ROOT/.state}"
ORCH_API_ADDRESS="${ORCH_API_ADDRESS:-127.0.0.1}"
ORCH_API_PORT="${ORCH_API_PORT:-6443}"
ORCH_CLUSTER_PORT="${ORCH_CLUSTER_PORT:-4050}"
ORCH_NODE_ADDRESS="${ORCH_NODE_ADDRESS:-127.0.0.1}"
# (bash's HOSTNAME is gethostname(2), as hostname(1) prints it: no processes on every start)
ORCH_NODE_NAME="${ORCH_NODE_NAME:-${HOSTNAME,,}}"
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
  [ "$EUID" -eq 0 ] || die "missing packages (${missing[*]}): run as root or install them first"
  step "installing ${missing[*]}"
  if [ $apt_updated -eq 0 ]; then
    apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed"
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || die "apt-get install ${missing[*]} failed"
}

# Installs PACKAGE for each COMMAND not on PATH (warm starts find them all without asking dpkg, 0.1-0.3 s per
# package on a loaded machine, issue 19); a command not found still has its package checked and installed.
ensure_commands() { # command package [command package]...
  local missing=()
  while [ $# -ge 2 ]; do command -v "$1" >/dev/null 2>&1 || missing+=("$2"); shift 2; done
  [ ${#missing[@]} -eq 0 ] || ensure_packages "${missing[@]}"
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
  docker_answers && return 0
  if ! command -v dockerd >/dev/null 2>&1; then ensure_packages docker.io; fi
  command -v dockerd >/dev/null 2>&1 || die "dockerd is not installed and could not be installed"
  if ! docker_answers; then
    step "starting dockerd"
    mkdir -p "$ORCH_STATE_DIR"
    # the daemon outlives this script: it must not keep the caller's open files (a lock held around a test run)
    start_detached "$ORCH_STATE_DIR/dockerd.pid" "$ORCH_STATE_DIR/dockerd.log" dockerd
    for _ in $(seq 1 60); do
      docker_answers && return 0
      sleep 0.5
    done
    die "dockerd did not start within 30 s (see $ORCH_STATE_DIR/dockerd.log)"
  fi
}

# Whether the docker CLI is installed and its engine answers. Without DOCKER_HOST or a CLI context of its own, the engine
# is the one on /var/run/docker.sock (the node's default --docker too), asked with one curl of /_ping (issue 19: the
# docker CLI's start is about five times curl's); else `docker version`, which reads the CLI's configuration.
docker_answers() {
  command -v docker >/dev/null 2>&1 || return 1
  local config="${DOCKER_CONFIG:-$HOME/.docker}/config.json" settings=
  [ -f "$config" ] && { read -r -d '' settings <"$config" || true; } 2>/dev/null
  if [ -z "${DOCKER_HOST:-}" ] && [ -z "${DOCKER_CONTEXT:-}" ] && [[ "$settings" != *'"currentContext"'* ]] \
     && [ -S /var/run/docker.sock ] && command -v curl >/dev/null 2>&1; then
    [ "$(curl -s --max-time 10 --unix-socket /var/run/docker.sock http://docker/_ping 2>/dev/null)" = OK ]
  else
    docker version >/dev/null 2>&1
  fi
}

# PostgreSQL for the store's journal (--datastore-endpoint): Debian's `postgresql` package, and a private cluster of
# our own in a directory (never the system service): its own loopback port, its Unix socket in that directory,
# password authentication for the one role, run by the `postgres` user when we are root (initdb refuses root).
ensure_postgres() {
  postgres_bin >/dev/null 2>&1 || ensure_packages postgresql
  postgres_bin >/dev/null 2>&1 || die "PostgreSQL is not installed and could not be installed"
}

postgres_bin() { # the directory of initdb and pg_ctl: Debian keeps them out of PATH, under /usr/lib/postgresql/N/bin
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

postgres_free_port() { # the first loopback port from 25432 up that nothing listens on
  local port
  for port in $(seq 25432 25531); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  die "no free loopback port between 25432 and 25531 for PostgreSQL"
}

postgres_as_owner() { # runs a command as the cluster's owner: `postgres` when we are root, else ourselves
  if [ "$EUID" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Starts (making it at first use) the PostgreSQL cluster in DIR on a free loopback port, or PORT; prints the
# endpoint (postgres://orchestrator:PASSWORD@127.0.0.1:PORT/DB?sslmode=disable), also kept in DIR/endpoint.
# Started again on the same DIR, it keeps its port, password and data.
postgres_start() { # dir [port] [database]
  local dir=$1 port=${2:-} database=${3:-kubernetes} bin data password
  ensure_postgres
  bin=$(postgres_bin)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  data="$dir/data"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    runuser -u postgres -- test -w "$dir" || die "$dir: the postgres user cannot write here (a parent directory is private); choose another directory"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
    printf '%s\n' "$password" >"$dir/password"
    chmod 600 "$dir/password"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/password"; fi
    postgres_as_owner "$bin/initdb" -D "$data" -U orchestrator --pwfile="$dir/password" --auth-local=scram-sha-256 \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || die "initdb failed (see $dir/initdb.log)"
  fi
  password=$(cat "$dir/password")
  [ -n "$port" ] || port=$(cat "$dir/port" 2>/dev/null || true)
  [ -n "$port" ] || port=$(postgres_free_port)
  echo "$port" >"$dir/port"
  if ! postgres_as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    # the server outlives this script: it must not keep the caller's open files (a lock held around a test run),
    # nor be in its session (a test runner that ends its process group)
    local start=("$bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60
                 -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$data'" start)
    [ "$(id -u)" -eq 0 ] && start=(runuser -u postgres -- "${start[@]}")
    (
      close_inherited_fds
      exec setsid -w "${start[@]}"
    ) </dev/null >>"$dir/pg_ctl.log" 2>&1 || die "PostgreSQL did not start on 127.0.0.1:$port (see $dir/postgres.log)"
  fi
  if ! PGPASSWORD=$password "$bin/psql" -h 127.0.0.1 -p "$port" -U orchestrator -d postgres -Atqc \
      "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
    PGPASSWORD=$password "$bin/createdb" -h 127.0.0.1 -p "$port" -U orchestrator "$database" \
      || die "could not create the database $database"
  fi
  echo "postgres://orchestrator:$password@127.0.0.1:$port/$database?sslmode=disable" | tee "$dir/endpoint"
}

# Stops the PostgreSQL cluster in DIR (started by postgres_start), if it runs.
postgres_stop() { # dir
  local dir=$1 bin
  [ -f "$dir/data/PG_VERSION" ] || return 0
  bin=$(postgres_bin) || return 0
  postgres_as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 || return 0
  postgres_as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null || die "PostgreSQL in $dir did not stop"
}

# Whether a process runs: it exists and is not a zombie. A daemon started by start_detached is reparented to PID 1 when
# its starter exits, and until PID 1 reaps it an exited process stays a zombie that `kill -0` still finds (issue 19:
# measured 1.3-1.7 s on this machine's init, which deploy/down.sh waited out for each process).
process_alive() { # pid
  kill -0 "$1" 2>/dev/null || return 1
  [ -r /proc/self/stat ] || return 0 # no /proc: trust kill -0
  local stat; { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1 # reaped meanwhile (read: no process per poll)
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# Waiting without a process per poll (issue 19: deploy/up.sh polls while the cluster starts, and a `sleep` or `curl`
# process per poll takes CPU from the cores the start runs on): `nap SECONDS` sleeps by reading, with a timeout, a pipe
# nothing writes to (opened once, on first use); `port_accepts HOST PORT` is bash's own connect (/dev/tcp), closed at once.
nap() { # seconds
  [ -n "${nap_fd:-}" ] || exec {nap_fd}<> <(:)
  read -rt "$1" -u "$nap_fd" _ || true
}
port_accepts() { # host port
  : 2>/dev/null <>"/dev/tcp/$1/$2"
}

# Waits until PID has exited, polling TRIES times every INTERVAL seconds; fails if it still runs after that.
wait_exited() { # pid tries interval
  local _
  for _ in $(seq 1 "$2"); do process_alive "$1" || return 0; sleep "$3"; done
  ! process_alive "$1"
}

# The pid in FILE if that process is alive (not a zombie), or nothing.
alive_pid_in() { # file
  [ -f "$1" ] || return 0
  local pid=; { read -r pid <"$1"; } 2>/dev/null || true # (read fails on a last line without a newline, having read it)
  if [ -n "$pid" ] && process_alive "$pid"; then echo "$pid"; fi
}

# pid of a running cluster process (master|node), or nothing.
running_pid() { alive_pid_in "$ORCH_STATE_DIR/$1.pid"; }

# pids of the node processes running on this machine, of any cluster: dotnet [exec] …/orchestrator-node.dll, or the
# apphost; and orchestrator-all-in-one's (a master with its node: the node's flags follow its "--"). With BRIDGE, only
# those whose pod bridge it is (their --bridge; orch0 when they give none).
node_processes() { # [bridge]
  local want=${1:-} f args bridge i program
  for f in /proc/[0-9]*/cmdline; do
    { mapfile -d '' -t args <"$f"; } 2>/dev/null || continue
    [ ${#args[@]} -gt 0 ] || continue
    program=${args[0]##*/}
    if [ "$program" = dotnet ]; then
      [ "${args[1]:-}" = exec ] && args=("${args[@]:1}")
      program=${args[1]:-}; program=${program##*/}; program=${program%.dll}
      args=("${args[@]:1}")
    fi
    case "$program" in
      orchestrator-node) args=("${args[@]:1}") ;;
      orchestrator-all-in-one) # its node's flags: those after the first "--"
        for ((i = 1; i < ${#args[@]}; i++)); do [ "${args[i]}" = -- ] && break; done
        args=("${args[@]:i+1}") ;;
      *) continue ;;
    esac
    [ "${args[0]:-}" = api-server-proxy ] && continue # the API load balancer alone serves no ClusterIPs
    if [ -n "$want" ]; then
      # (the deploy scripts give --bridge on the command line; ORCHESTRATOR_NODE_BRIDGE or a config file are not read)
      bridge=orch0
      for ((i = 0; i < ${#args[@]}; i++)); do
        case "${args[i]}" in
          --bridge) bridge=${args[i + 1]:-} ;;
          --bridge=*) bridge=${args[i]#--bridge=} ;;
        esac
      done
      [ "$bridge" = "$want" ] || continue
    fi
    f=${f#/proc/}; echo "${f%/cmdline}"
  done
  return 0
}

# Nodes make ClusterIPs local addresses of their pod bridge (label <bridge>:svc) and lab nodes add their DNS address
# (label <bridge>:dns). Every node process on the bridge serves the cluster's ClusterIPs (several nodes of one cluster,
# as the lab's): take them away only when no node process on BRIDGE is left running. Another cluster on its own bridge
# (the lab's orchlab0 beside up.sh's orch0) neither keeps them nor loses its own.
release_node_addresses() { # [bridge (orch0)]
  local bridge=${1:-orch0} running label
  command -v ip >/dev/null 2>&1 && ip link show "$bridge" >/dev/null 2>&1 || return 0
  running=$(node_processes "$bridge" | wc -l)
  if [ "$running" -gt 0 ]; then
    [ -n "$(ip -4 -o addr show dev "$bridge" label "$bridge:svc")" ] \
      && step "left the ClusterIP addresses on $bridge: $running other node process(es) still serve them"
    return 0
  fi
  for label in "$bridge:svc" "$bridge:dns"; do
    if [ -n "$(ip -4 -o addr show dev "$bridge" label "$label")" ]; then
      ip addr flush dev "$bridge" label "$label" 2>/dev/null && step "removed the $label addresses from $bridge" || true
    fi
  done
}

# The kind of build ORCH_READY_TO_RUN asks for (deploy/lib/build.sh): unset or "start" (the default) the JIT build with
# the start-up's assemblies compiled ReadyToRun; 0 the JIT build alone; 1 the whole ReadyToRun publish.
build_kind() {
  case "${ORCH_READY_TO_RUN:-start}" in
    start) echo ready-to-run-start ;;
    0) echo jit ;;
    1) echo ready-to-run ;;
    *) die "ORCH_READY_TO_RUN is '$ORCH_READY_TO_RUN': unset or 'start' (the JIT build, the start-up's assemblies ReadyToRun: the default), 0 (the JIT build alone) or 1 (the whole ReadyToRun publish)" ;;
  esac
}

# Whether ORCH_BUILD_DIR holds a finished build of the sources as they are, of the kind asked for (ORCH_READY_TO_RUN):
# its stamp exists, names that kind (or nothing: made by `touch`, as the benches do to reuse a build), and is newer than
# deploy/lib/build.sh and every source. build.sh removes the stamp before it builds and writes it last, so a stamp
# found here is never of a build still running; build.sh checks again under its lock.
build_up_to_date() {
  local stamp="$ORCH_BUILD_DIR/.built" mode kind=
  mode=$(build_kind) || return 1 # (a bad value: build.sh says why)
  [ -f "$stamp" ] || return 1
  { read -r kind <"$stamp"; } 2>/dev/null || true
  [ -z "$kind" ] || [ "$kind" = "$mode" ] || return 1
  [ "$ORCH_ROOT/deploy/lib/build.sh" -nt "$stamp" ] && return 1
  [ "$ORCH_ROOT/deploy/lib/ready-to-run.sh" -nt "$stamp" ] && return 1
  # the generated and installed trees are not walked (node_modules alone holds most of src's files)
  [ -z "$(find "$ORCH_ROOT/src" "$ORCH_ROOT/Directory.Build.props" "$ORCH_ROOT/Directory.Packages.props" \
      \( -name obj -o -name bin -o -name node_modules -o -name dist \) -prune -o \
      -newer "$stamp" -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.proto' -o -name '*.json' \
      -o -name '*.ts' -o -name '*.tsx' -o -name '*.css' -o -name '*.html' -o -name '*.mjs' \) -print 2>/dev/null | head -1)" ]
}

# What every cluster start needs on this machine: the tools, a Docker engine, the build and the demo images.
# --images-later: not the demo images; the caller runs deploy/images/build.sh itself (deploy/up.sh: beside the start-up).
prepare_machine() {
  command -v dotnet >/dev/null 2>&1 || die "the .NET SDK (dotnet) is not on PATH"
  command -v kubectl >/dev/null 2>&1 || die "kubectl is not on PATH"
  [ -d "$ORCH_STATE_DIR/logs" ] && [ -d "$ORCH_STATE_DIR/master" ] || mkdir -p "$ORCH_STATE_DIR/logs" "$ORCH_STATE_DIR/master"

  step "Docker engine"
  ensure_docker
  ensure_commands ip iproute2 iptables iptables # iptables: the node's NetworkPolicy rules on the pod bridge

  step "building Orchestrator"
  # (the stamp checked here first: a warm start runs no build.sh, whose bash, flock and find cost 0.1-0.4 s)
  if build_up_to_date; then say "  build is up to date"; else "$ORCH_ROOT/deploy/lib/build.sh"; fi

  [ "${1:-}" = --images-later ] && return 0
  step "demo images"
  "$ORCH_ROOT/deploy/images/build.sh"
}
