# Shared by the lab scripts: settings, the node registry and process helpers. Source it.
#
# Settings (environment): ORCH_LAB_STATE_DIR (./.state-lab: logs, pids, master data, one file per node),
# ORCH_LAB_API_PORT (7443), ORCH_LAB_CLUSTER_PORT (4060), ORCH_LAB_CONTEXT (orchestrator-lab),
# ORCH_LAB_MASTER_ADDRESS (127.0.0.10), ORCH_LAB_GRACE (node monitor grace period, 15 s),
# ORCH_LAB_NETWORK (orchestrator-lab: the nodes' Docker network), ORCH_LAB_BRIDGE (orchlab0: its bridge interface),
# ORCH_LAB_POD_NETWORK (172.29.0.0/16: its subnet, a /16; ClusterIPs are its upper half, the master's --service-cidr),
# ORCH_LAB_LOAD_BALANCER_POOL (127.0.102.0/24: LoadBalancer Services' addresses).
# The network, bridge, subnet and pool differ from deploy/up.sh's (orchestrator, orch0, 172.28.0.0/16, 127.0.100.0/24),
# so the lab and a single-node cluster run side by side: each has its own ClusterIPs on its own bridge.
# Node i is lab-node-i on 127.0.0.(10+i), pod range A.B.i.0/24 of the pod network (172.29.i.0/24), health port 10260+i.
# Several masters (up.sh --masters N): master-i on ORCH_LAB_MASTER_ADDRESS, API port 7443+i-1, cluster port 4060+i-1,
# data in master/ (master-1) or master-i/, all on one PostgreSQL (state in postgres/, a loopback port), and the lab's
# load balancer to their APIs on ORCH_LAB_MASTER_ADDRESS:ORCH_LAB_API_PROXY_PORT (6444), where kubectl's context points.
LAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export ORCH_STATE_DIR="${ORCH_LAB_STATE_DIR:-$LAB_ROOT/.state-lab}"
export ORCH_API_ADDRESS="${ORCH_LAB_MASTER_ADDRESS:-127.0.0.10}"
export ORCH_API_PORT="${ORCH_LAB_API_PORT:-7443}"
export ORCH_CLUSTER_PORT="${ORCH_LAB_CLUSTER_PORT:-4060}"
export ORCH_CONTEXT="${ORCH_LAB_CONTEXT:-orchestrator-lab}"
LAB_API_PROXY_PORT="${ORCH_LAB_API_PROXY_PORT:-6444}"
LAB_GRACE="${ORCH_LAB_GRACE:-15}"
LAB_NETWORK="${ORCH_LAB_NETWORK:-orchestrator-lab}"
LAB_BRIDGE="${ORCH_LAB_BRIDGE:-orchlab0}"
LAB_POD_NETWORK="${ORCH_LAB_POD_NETWORK:-172.29.0.0/16}"
LAB_LOAD_BALANCER_POOL="${ORCH_LAB_LOAD_BALANCER_POOL:-127.0.102.0/24}"
LAB_NODE_PREFIX="lab-node-"
LAB_MAX_NODES=100
source "$LAB_ROOT/deploy/lib/common.sh"

[[ "$LAB_POD_NETWORK" =~ ^([0-9]{1,3})\.([0-9]{1,3})\.0\.0/16$ ]] \
  || die "ORCH_LAB_POD_NETWORK must be a /16 such as 172.29.0.0/16 (node i takes its .i.0/24), not '$LAB_POD_NETWORK'"
LAB_NET_PREFIX="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
LAB_SERVICE_CIDR="$LAB_NET_PREFIX.128.0/17" # the upper half of the pod network, as the nodes expect

LAB_NODES_DIR="$ORCH_STATE_DIR/nodes"
LAB_SERVER="https://$ORCH_API_ADDRESS:$ORCH_API_PORT"
CLUSTER_CERT="$ORCH_STATE_DIR/master/cluster.pfx"

lab_kubectl() { kubectl --context "$ORCH_CONTEXT" "$@"; }

node_address() { echo "127.0.0.$((10 + $1))"; }
node_pod_cidr() { echo "$LAB_NET_PREFIX.$1.0/24"; }
node_pid_file() { echo "$LAB_NODES_DIR/$1.pid"; }

# The index of a known node (its registry file), or nothing.
node_index() {
  local f="$LAB_NODES_DIR/$1.index"
  [ -f "$f" ] && cat "$f" || true
}

known_nodes() {
  [ -d "$LAB_NODES_DIR" ] || return 0
  for f in "$LAB_NODES_DIR"/*.index; do [ -e "$f" ] && basename "$f" .index; done | sort -V
}

# pid of a node process that is alive (running or frozen), or nothing.
node_pid() {
  # not a zombie: an exited node stays one until PID 1 reaps it, 1-2 s late (see process_alive)
  alive_pid_in "$(node_pid_file "$1")"
}

# running | paused | stopped
node_state() {
  local pid; pid=$(node_pid "$1")
  if [ -z "$pid" ]; then echo stopped; return; fi
  case "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" in
    T|t) echo paused ;;
    *) echo running ;;
  esac
}

require_master() {
  [ -n "$(running_pid master)" ] || [ -n "$(live_masters)" ] || die "the lab is not running (start it with deploy/lab/up.sh --nodes N)"
}

# ---- masters: one (the default, SQLite) or several (on PostgreSQL) ----------------------------------------------------
LAB_MASTERS_FILE="$ORCH_STATE_DIR/masters"
LAB_POSTGRES_DIR="$ORCH_STATE_DIR/postgres"
lab_masters() { cat "$LAB_MASTERS_FILE" 2>/dev/null || echo 1; }
master_key() { if [ "$1" -eq 1 ]; then echo master; else echo "master-$1"; fi; } # pid file and data directory
master_api_port() { echo $((ORCH_API_PORT + $1 - 1)); }
master_cluster_port() { echo $((ORCH_CLUSTER_PORT + $1 - 1)); }
master_server() { echo "https://$ORCH_API_ADDRESS:$(master_api_port "$1")"; }
master_api_servers() { # every master's API (host:port), comma-separated: what the balancer forwards to
  local i list=()
  for i in $(seq 1 "$(lab_masters)"); do list+=("$ORCH_API_ADDRESS:$(master_api_port "$i")"); done
  local IFS=,; echo "${list[*]}"
}
master_names() { local i; for i in $(seq 1 "$(lab_masters)"); do echo "master-$i"; done; }
# what nodes get as --master (and masters as --peers): every master's cluster address
lab_peers() {
  local i list=()
  for i in $(seq 1 "$(lab_masters)"); do list+=("$ORCH_API_ADDRESS:$(master_cluster_port "$i")"); done
  local IFS=,; echo "${list[*]}"
}
# the index of master NAME (master-i), or die
master_index() {
  local name=$1 n; n=$(lab_masters)
  [[ "$name" =~ ^master-([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] && [ "${BASH_REMATCH[1]}" -le "$n" ] \
    || die "no lab master '$name' (known: $(master_names | tr '\n' ' '))"
  echo "${BASH_REMATCH[1]}"
}
master_state() { # index: running | paused | stopped
  local pid; pid=$(running_pid "$(master_key "$1")")
  if [ -z "$pid" ]; then echo stopped; return; fi
  case "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" in T|t) echo paused ;; *) echo running ;; esac
}
live_masters() { local i; for i in $(seq 1 "$(lab_masters)"); do [ "$(master_state "$i")" = running ] && echo "$i"; done; return 0; }

require_node() {
  [ -n "$1" ] || die "name a node (one of: $(known_nodes | tr '\n' ' '))"
  [ -n "$(node_index "$1")" ] || die "no lab node '$1' (known: $(known_nodes | tr '\n' ' '))"
}

master_args() { # [index]
  local i=${1:-1}
  printf '%s\n' --data-dir "$ORCH_STATE_DIR/$(master_key "$i")" --api-address "$ORCH_API_ADDRESS" --api-port "$(master_api_port "$i")" \
    --cluster-address "$ORCH_API_ADDRESS" --cluster-port "$(master_cluster_port "$i")" \
    --node-monitor-grace-period "$LAB_GRACE" --node-monitor-period 1 --pod-eviction-timeout 0 \
    --service-cidr "$LAB_SERVICE_CIDR" --load-balancer-pool "$LAB_LOAD_BALANCER_POOL"
  if [ "$(lab_masters)" -gt 1 ]; then
    printf '%s\n' --peers "$(lab_peers)" --datastore-endpoint "$(cat "$LAB_POSTGRES_DIR/endpoint")"
  fi
}

start_master() { # [index]
  local i=${1:-1} key; key=$(master_key "${1:-1}")
  [ -n "$(running_pid "$key")" ] && return 0
  if [ "$i" -gt 1 ]; then
    # every master serves with the same CA, serving key, admin token, token signing key and cluster certificate:
    # master-1 made them at its first start (the store itself is in PostgreSQL)
    mkdir -p "$ORCH_STATE_DIR/$key"
    chmod 700 "$ORCH_STATE_DIR/$key"
    find "$ORCH_STATE_DIR/master" -maxdepth 1 -type f ! -name 'store.db*' -exec cp -p {} "$ORCH_STATE_DIR/$key/" \;
  fi
  local args=(); mapfile -t args < <(master_args "$i")
  start_detached "$ORCH_STATE_DIR/$key.pid" "$ORCH_STATE_DIR/logs/$key.log" \
    dotnet "$ORCH_BUILD_DIR/master/orchestrator-master.dll" "${args[@]}"
  wait_master_ready "$i"
}

wait_master_ready() { # index: its API answers /readyz (a follower: through the leader, so it has joined)
  local i=$1 key server; key=$(master_key "$1"); server=$(master_server "$1")
  for _ in $(seq 1 120); do
    curl -sfk "$server/readyz" >/dev/null 2>&1 && [ -s "$ORCH_STATE_DIR/master/token" ] && [ -s "$CLUSTER_CERT" ] && return 0
    [ -n "$(running_pid "$key")" ] || die "master $i exited during start-up (see $ORCH_STATE_DIR/logs/$key.log)"
    sleep 0.5
  done
  die "master $i did not answer on $server within 60 s (see $ORCH_STATE_DIR/logs/$key.log)"
}

# What a master of several logs when the cluster took it out (downed, or its control plane stopped) and it starts a
# new incarnation in the same process (Leadership/MasterIncarnations).
NEW_INCARNATION_LINE="a new incarnation ("

# The lab's load balancer to the masters' APIs (several masters): orchestrator-node's --api-server-proxy run alone, on
# the masters' address (their serving certificate names it), so kubectl reaches whichever master is up through one
# server that never changes. It is not on a lab node: kill-node.sh would take kubectl with it.
LAB_API_PROXY="$ORCH_API_ADDRESS:$LAB_API_PROXY_PORT"
start_api_proxy() {
  [ -n "$(running_pid api-proxy)" ] && return 0
  start_detached "$ORCH_STATE_DIR/api-proxy.pid" "$ORCH_STATE_DIR/logs/api-proxy.log" \
    dotnet "$ORCH_BUILD_DIR/node/orchestrator-node.dll" api-server-proxy --listen "$LAB_API_PROXY" --api-servers "$(master_api_servers)"
  for _ in $(seq 1 60); do
    curl -sfk "https://$LAB_API_PROXY/livez" >/dev/null 2>&1 && return 0
    [ -n "$(running_pid api-proxy)" ] || die "the API load balancer exited during start-up (see $ORCH_STATE_DIR/logs/api-proxy.log)"
    sleep 0.5
  done
  die "the API load balancer did not answer on $LAB_API_PROXY within 30 s (see $ORCH_STATE_DIR/logs/api-proxy.log)"
}

stop_pid() { # pid what
  local pid=$1
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  wait_exited "$pid" 40 0.25 && return 0
  kill -KILL "$pid" 2>/dev/null || true
}

# Starts node NAME with index I: exactly the flags a node on another machine uses to join (see the README).
start_node() { # name index
  local name=$1 index=$2
  [ -n "$(node_pid "$name")" ] && return 0
  mkdir -p "$LAB_NODES_DIR"
  echo "$index" >"$LAB_NODES_DIR/$name.index"
  start_detached "$(node_pid_file "$name")" "$ORCH_STATE_DIR/logs/$name.log" \
    dotnet "$ORCH_BUILD_DIR/node/orchestrator-node.dll" \
    --name "$name" --address "$(node_address "$index")" --master "$(lab_peers)" \
    --cluster-cert "$CLUSTER_CERT" \
    --network "$LAB_NETWORK" --bridge "$LAB_BRIDGE" --pod-network "$LAB_POD_NETWORK" \
    --pod-cidr "$(node_pod_cidr "$index")" --healthz-port "$((10260 + index))" --resolv-conf "$ORCH_RESOLV_CONF" \
    --root-dir "$LAB_NODES_DIR/$name" --node-status-update-frequency 2
}

# Waits until each named node posts a Ready heartbeat newer than SINCE (epoch seconds) and has lost the
# node.kubernetes.io/not-ready:NoSchedule taint it was created with (pods can be scheduled onto it).
wait_ready() { # since name...
  local since=$1; shift
  local name ready heartbeat effects
  for name in "$@"; do
    for i in $(seq 1 120); do
      read -r ready heartbeat effects < <(lab_kubectl get node "$name" \
        -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime} {.spec.taints[?(@.key=="node.kubernetes.io/not-ready")].effect}' \
        2>/dev/null; echo) || true
      if [ "${ready:-}" = "True" ] && [ -n "${heartbeat:-}" ] && [[ " ${effects:-} " != *" NoSchedule "* ]] && [ "$(date -u -d "$heartbeat" +%s)" -ge "$since" ]; then
        break
      fi
      [ -n "$(node_pid "$name")" ] || die "node '$name' exited during start-up (see $ORCH_STATE_DIR/logs/$name.log)"
      [ "$i" -eq 120 ] && die "node '$name' was not Ready within 60 s (see $ORCH_STATE_DIR/logs/$name.log)"
      sleep 0.5
    done
  done
}

# Removes a node's containers the way a lost machine loses them.
remove_node_containers() { # name
  docker version >/dev/null 2>&1 || return 0
  local containers; containers=$(docker ps -aq --filter "label=io.orchestrator.node=$1")
  [ -z "$containers" ] && return 0
  docker rm -f $containers >/dev/null
  echo "$containers" | wc -l
}

# The kubeconfig's server: the master's API, or with several masters the lab's load balancer in front of them (any
# master answers every request, forwarding it to the one holding the control plane), so kubectl keeps working when a
# master is killed or paused without a change of kubeconfig.
write_kubeconfig() {
  local server=$LAB_SERVER
  [ "$(lab_masters)" -gt 1 ] && server="https://$LAB_API_PROXY"
  kubectl config set-cluster "$ORCH_CONTEXT" --server="$server" \
    --certificate-authority="$ORCH_STATE_DIR/master/ca.crt" --embed-certs=true >/dev/null
  kubectl config set-credentials "$ORCH_CONTEXT" --token="$(cat "$ORCH_STATE_DIR/master/token")" >/dev/null
  kubectl config set-context "$ORCH_CONTEXT" --cluster="$ORCH_CONTEXT" --user="$ORCH_CONTEXT" --namespace=default >/dev/null
}

