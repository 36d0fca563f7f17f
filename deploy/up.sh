#!/usr/bin/env bash
# Brings up a single-node Orchestrator cluster (this project's `minikube start`): a Docker engine, the build,
# the demo images, the master and one node in the background (one process by default), and a kubeconfig context
# "orchestrator".
# Running it again while the cluster runs reports the running cluster and changes nothing.
#
# Settings (environment): ORCH_STATE_DIR (default ./.state: logs, pid files, master data), ORCH_API_PORT (6443),
# ORCH_CLUSTER_PORT (4050), ORCH_NODE_ADDRESS (127.0.0.1), ORCH_NODE_NAME (host name), ORCH_CONTEXT (orchestrator),
# ORCH_BIN_DIR (where the orchctl symlink goes: /usr/local/bin when root; empty: print the PATH line instead),
# ORCH_REGISTRY (127.0.0.1:5000: where --registry serves), ORCH_INGRESS_HTTP_PORT / ORCH_INGRESS_HTTPS_PORT (80/443 on
# the node address: the Ingress controller), ORCH_LOAD_BALANCER_POOL (127.0.100.0/24: LoadBalancer Services' addresses).
# ORCH_ONE_PROCESS (default 1): the master and the node in one process (orchestrator-all-in-one, as k3s' server with
# its agent): the runtime, the libraries and their JIT code once instead of twice, so less memory (about 215 MB idle
# against 350 MB) and a start with a quarter less CPU (bench/startup.md). Both pid files name that process, its log is
# logs/all-in-one.log, and deploy/down.sh stops it (node first, then master). Its cost: a node that fails takes the
# master with it (the process exits 1, its last line naming the half and why), and restarting the node is restarting
# both. ORCH_ONE_PROCESS=0: two processes, logs/master.log and logs/node.log; the node alone can be killed and started
# again (the E2E tests that kill node.pid run so). Either kind runs until deploy/down.sh; to change kind, stop first.
# --registry: also run the cluster's image registry (deploy/lib/registry.sh) for `orchctl image push`.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"

with_registry=0
for arg in "$@"; do
  case "$arg" in
    --registry) with_registry=1 ;;
    *) die "unknown argument '$arg' (usage: deploy/up.sh [--registry])" ;;
  esac
done
ORCH_REGISTRY="${ORCH_REGISTRY:-127.0.0.1:5000}"
[ $with_registry -eq 1 ] && "$ORCH_ROOT/deploy/lib/registry.sh" start "$ORCH_REGISTRY"

started_ms=$(( ${EPOCHREALTIME/./} / 1000 ))
server="https://$ORCH_API_ADDRESS:$ORCH_API_PORT"

case "${ORCH_ONE_PROCESS:-1}" in
  1) one_process=1 ;;
  0) one_process=0 ;;
  *) die "ORCH_ONE_PROCESS is '$ORCH_ONE_PROCESS': 1 (the default: the master and the node in one process) or 0 (two processes)" ;;
esac
if [ -n "$(running_pid master)" ] && [ -n "$(running_pid node)" ]; then
  say "Orchestrator is already running: master pid $(running_pid master) ($server), node '$ORCH_NODE_NAME' pid $(running_pid node)$([ "$(running_pid master)" = "$(running_pid node)" ] && echo " (one process)")."
  say "State and logs: $ORCH_STATE_DIR. Nothing changed. Use: kubectl --context $ORCH_CONTEXT get nodes"
  exit 0
fi
# one process cannot join a master or a node that still runs on its own (the ports are theirs)
if [ $one_process -eq 1 ] && { [ -n "$(running_pid master)" ] || [ -n "$(running_pid node)" ]; }; then
  die "the $([ -n "$(running_pid master)" ] && echo "master (pid $(running_pid master))" || echo "node (pid $(running_pid node))") of this cluster runs as a process of its own (two processes): stop it with deploy/down.sh and start again, or start the rest with ORCH_ONE_PROCESS=0"
fi
master_log="$ORCH_STATE_DIR/logs/master.log" node_log="$ORCH_STATE_DIR/logs/node.log"
[ $one_process -eq 1 ] && master_log="$ORCH_STATE_DIR/logs/all-in-one.log" node_log="$ORCH_STATE_DIR/logs/all-in-one.log"

prepare_machine --images-later
command -v jq >/dev/null 2>&1 || ensure_packages jq # reads the Node's Ready condition below

# The demo images are checked (built when their source changed) beside the start-up, not before it (issue 19): neither
# process needs them to start, and the check alone is a dozen docker CLI calls (about a second). up.sh waits for it,
# and shows its output, before it writes the kubeconfig; if it fails, the processes this run started are stopped again.
step "demo images (beside the start-up; log: $ORCH_STATE_DIR/logs/images.log)"
# (none of the caller's open files: a lock held around up.sh is released when up.sh returns, even if this still runs)
( close_inherited_fds; exec "$ORCH_ROOT/deploy/images/build.sh" ) >"$ORCH_STATE_DIR/logs/images.log" 2>&1 &
images_pid=$!

# orchctl on the PATH: a symlink to the built CLI in ORCH_BIN_DIR (never over a file that is not a symlink)
ORCH_BIN_DIR="${ORCH_BIN_DIR-$([ "$EUID" -eq 0 ] && echo /usr/local/bin)}"
orchctl_path_line="export PATH=\"$ORCH_BUILD_DIR/cli:\$PATH\""
# (a link already there to the built CLI is left as it is: two processes fewer on a warm start)
if [ -n "$ORCH_BIN_DIR" ] && { { [ -L "$ORCH_BIN_DIR/orchctl" ] && [ "$ORCH_BIN_DIR/orchctl" -ef "$ORCH_BUILD_DIR/cli/orchctl" ]; } \
   || { mkdir -p "$ORCH_BIN_DIR" 2>/dev/null \
        && { [ -L "$ORCH_BIN_DIR/orchctl" ] || [ ! -e "$ORCH_BIN_DIR/orchctl" ]; } \
        && ln -sfn "$ORCH_BUILD_DIR/cli/orchctl" "$ORCH_BIN_DIR/orchctl" 2>/dev/null; }; }; then
  step "orchctl on the PATH: $ORCH_BIN_DIR/orchctl"
  orchctl_path_line="export PATH=\"$ORCH_BIN_DIR:\$PATH\""
  case ":$PATH:" in *":$ORCH_BIN_DIR:"*) orchctl_path_line="" ;; esac
fi

started_roles=() # the processes this run started (stopped again if the demo images cannot be built)
start_process() { # role dll args...
  local role=$1 dll=$2; shift 2
  if [ -n "$(running_pid "$role")" ]; then return 0; fi
  start_detached "$ORCH_STATE_DIR/$role.pid" "$ORCH_STATE_DIR/logs/$role.log" dotnet "$dll" "$@"
  started_roles+=("$role")
}

# Secrets are encrypted at rest with a key made for this cluster (kube-apiserver's EncryptionConfiguration; identity
# second, so a cluster made before the key existed is read and rewritten encrypted). Private from creation.
encryption_config="$ORCH_STATE_DIR/master/encryption-config.yaml"
if [ ! -s "$encryption_config" ]; then
  (umask 077 && cat >"$encryption_config" <<YAML
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aesgcm:
          keys:
            - name: key-$(date -u +%Y%m%d)
              secret: $(head -c 32 /dev/urandom | base64 -w0)
      - identity: {}
YAML
  )
  step "made an encryption key for Secrets ($encryption_config)"
fi

# The audit log (kube-apiserver's --audit-policy-file/--audit-log-path): who changed what, one JSON event per line.
# The policy is written once; edit it and restart the master (deploy/down.sh; deploy/up.sh) to log more or less.
audit_policy="$ORCH_STATE_DIR/master/audit-policy.yaml"
if [ ! -s "$audit_policy" ]; then
  cat >"$audit_policy" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  # health checks and reads are not logged: the log says who changed what
  - level: None
    nonResourceURLs: ["/healthz*", "/readyz*", "/livez*"]
  - level: None
    verbs: [get, list, watch]
  # every change: who, what, when, and the answer (never the bodies: Secrets and ConfigMaps hold data)
  - level: Metadata
YAML
  step "wrote an audit policy ($audit_policy)"
fi

master_flags=(--data-dir "$ORCH_STATE_DIR/master" --api-address "$ORCH_API_ADDRESS" --api-port "$ORCH_API_PORT"
  --cluster-address 127.0.0.1 --cluster-port "$ORCH_CLUSTER_PORT" --encryption-provider-config "$encryption_config"
  --load-balancer-pool "${ORCH_LOAD_BALANCER_POOL:-127.0.100.0/24}"
  --audit-policy-file "$audit_policy" --audit-log-path "$ORCH_STATE_DIR/logs/audit.log"
  --audit-log-maxsize 100 --audit-log-maxbackup 5)
node_flags=(--name "$ORCH_NODE_NAME" --address "$ORCH_NODE_ADDRESS" --master "127.0.0.1:$ORCH_CLUSTER_PORT"
  --cluster-cert "$ORCH_STATE_DIR/master/cluster.pfx"
  --resolv-conf "$ORCH_RESOLV_CONF" --healthz-port "$ORCH_HEALTHZ_PORT" --root-dir "$ORCH_STATE_DIR/node"
  --ingress-http-port "${ORCH_INGRESS_HTTP_PORT:-80}" --ingress-https-port "${ORCH_INGRESS_HTTPS_PORT:-443}")
master_exited() {
  [ -n "$(running_pid node)" ] && kill -TERM "$(running_pid node)" 2>/dev/null
  die "the master exited during start-up: $(tail -n 1 "$master_log") (see $master_log)"
}

if [ $one_process -eq 1 ]; then
  step "starting the master ($server) and node '$ORCH_NODE_NAME' ($ORCH_NODE_ADDRESS) in one process"
  # The Node object may survive from an earlier run with Ready=True: only a heartbeat newer than this start counts.
  node_started=$EPOCHSECONDS
  # the process starts its node itself once its master's cluster port listens; both pid files name it
  start_detached "$ORCH_STATE_DIR/master.pid" "$master_log" \
    dotnet "$ORCH_BUILD_DIR/all-in-one/orchestrator-all-in-one.dll" "${master_flags[@]}" -- "${node_flags[@]}"
  read -r pid <"$ORCH_STATE_DIR/master.pid" && echo "$pid" >"$ORCH_STATE_DIR/node.pid"
  started_roles+=(master node) # (one pid: stopping it twice is harmless)
else
  step "starting the master ($server)"
  start_process master "$ORCH_BUILD_DIR/master/orchestrator-master.dll" "${master_flags[@]}"
  # The node boots while the master recovers its store (issue 19: the two start-ups overlap): it needs only the cluster
  # certificate and the master's cluster port listening — a join tried before that would be gated for seconds. Its
  # registration waits in the master's gateway until the store is ready.
  for i in $(seq 1 1200); do
    [ -s "$ORCH_STATE_DIR/master/cluster.pfx" ] && [ -n "$(ss -Hltn "sport = :$ORCH_CLUSTER_PORT" 2>/dev/null)" ] && break
    [ -n "$(running_pid master)" ] || master_exited
    [ "$i" -eq 1200 ] && die "the master did not listen on its cluster port $ORCH_CLUSTER_PORT within 60 s (see $master_log)"
    sleep 0.05
  done

  step "starting node '$ORCH_NODE_NAME' ($ORCH_NODE_ADDRESS)"
  # The Node object may survive from an earlier run with Ready=True: only a heartbeat newer than this start counts.
  node_started=$EPOCHSECONDS
  start_process node "$ORCH_BUILD_DIR/node/orchestrator-node.dll" "${node_flags[@]}"
fi

# Until the API port accepts connections (the master's host starts last in its start-up), nothing but bash polls: its
# own connect and a nap, no curl nor sleep process every 0.1 s (issue 19: about 20 ms of CPU each, on the two cores the
# start runs on); then /readyz, which also waits for the store. (Every 40th poll asks /readyz whatever the connect
# said: a bash built without /dev/tcp gets there too.)
master_pid=$(running_pid master) api_deadline=$((EPOCHSECONDS + 60)) polls=0
while :; do
  if port_accepts "$ORCH_API_ADDRESS" "$ORCH_API_PORT" || [ $((++polls % 40)) -eq 0 ]; then
    curl -sfk "$server/readyz" >/dev/null 2>&1 && [ -s "$ORCH_STATE_DIR/master/token" ] && break
    interval=0.1
  else
    interval=0.05
  fi
  process_alive "$master_pid" || master_exited
  [ "$EPOCHSECONDS" -lt "$api_deadline" ] || die "the master did not answer on $server within 60 s (see $master_log)"
  nap "$interval"
done

if ! wait "$images_pid"; then
  sed 's/^/  /' "$ORCH_STATE_DIR/logs/images.log" >&2
  for role in "${started_roles[@]}"; do
    pid=$(running_pid "$role"); [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
  done
  die "the demo images could not be built (see $ORCH_STATE_DIR/logs/images.log); stopped what this run started: ${started_roles[*]:-nothing}"
fi
sed 's/^/  /' "$ORCH_STATE_DIR/logs/images.log"

step "writing kubeconfig context '$ORCH_CONTEXT' (${KUBECONFIG:-$HOME/.kube/config})"
# The admin is a client certificate of the cluster CA, as kubeadm's admin.conf (user kubernetes-admin; group
# system:masters here, which the bootstrap cluster-admin binding names). The bearer token in master/token keeps working.
admin_crt="$ORCH_STATE_DIR/master/admin.crt" admin_key="$ORCH_STATE_DIR/master/admin.key"
# (issued by this cluster's CA and valid for a day more: one openssl process, the chain checked as it will be tomorrow)
if ! [ -s "$admin_crt" ] \
    || ! openssl verify -attime $((EPOCHSECONDS + 86400)) -CAfile "$ORCH_STATE_DIR/master/ca.crt" "$admin_crt" >/dev/null 2>&1; then
  ( umask 077
    openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$admin_key"
    ext=$(mktemp); printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$ext"
    openssl req -new -key "$admin_key" -subj "/O=system:masters/CN=kubernetes-admin" 2>/dev/null \
      | openssl x509 -req -CA "$ORCH_STATE_DIR/master/ca.crt" -CAkey "$ORCH_STATE_DIR/master/ca.key" -CAcreateserial \
          -CAserial "$ORCH_STATE_DIR/master/ca.srl" -days 365 -sha256 -extfile "$ext" -out "$admin_crt" 2>/dev/null
    rm -f "$ext" ) || die "could not issue the admin client certificate with the cluster CA"
fi
# Whether the kubeconfig already holds exactly what the four `kubectl config` commands below write (a restart of the
# same cluster): one kubectl process instead of four (issue 19: each costs 0.1-0.3 s of CPU while the node starts).
# The files go to jq by --rawfile, so no key or token appears in a command line.
kubeconfig_current() {
  kubectl config view --raw -o json 2>/dev/null | jq -e --arg ctx "$ORCH_CONTEXT" --arg server "$server" \
    --rawfile ca "$ORCH_STATE_DIR/master/ca.crt" --rawfile crt "$admin_crt" --rawfile key "$admin_key" \
    --rawfile token "$ORCH_STATE_DIR/master/token" '
      (.clusters[]? | select(.name == $ctx) | .cluster) as $c
      | (.users[]? | select(.name == $ctx) | .user) as $u
      | (.contexts[]? | select(.name == $ctx) | .context) as $x
      | .["current-context"] == $ctx
        and $c.server == $server and $c["certificate-authority-data"] == ($ca | @base64) and $c["certificate-authority"] == null
        and $u["client-certificate-data"] == ($crt | @base64) and $u["client-key-data"] == ($key | @base64)
        and $u["client-certificate"] == null and $u["client-key"] == null and $u.token == ($token | sub("\n+$"; ""))
        and $x.cluster == $ctx and $x.user == $ctx and $x.namespace == "default"' >/dev/null 2>&1
}
# And whether nothing of it has changed since this cluster last found it current or wrote it: the kubeconfig file and
# what it embeds are older than the stamp naming the same file, context and server (no process at all).
kubeconfig_file=${KUBECONFIG:-$HOME/.kube/config} kubeconfig_checked="$ORCH_STATE_DIR/kubeconfig.checked"
kubeconfig_unchanged() {
  local line f
  case "$kubeconfig_file" in *:*) return 1 ;; esac # several files: kubectl decides which one it writes
  [ -f "$kubeconfig_file" ] && { read -r line <"$kubeconfig_checked"; } 2>/dev/null \
    && [ "$line" = "$kubeconfig_file $ORCH_CONTEXT $server" ] || return 1
  for f in "$kubeconfig_file" "$ORCH_STATE_DIR/master/ca.crt" "$admin_crt" "$admin_key" "$ORCH_STATE_DIR/master/token"; do
    [ "$f" -nt "$kubeconfig_checked" ] && return 1
  done
  return 0
}
if ! kubeconfig_unchanged && ! kubeconfig_current; then
  kubectl config set-cluster "$ORCH_CONTEXT" --server="$server" \
    --certificate-authority="$ORCH_STATE_DIR/master/ca.crt" --embed-certs=true >/dev/null
  # The token stays beside the certificate for what cannot present a certificate (`orchctl dashboard --with-token` hands
  # it to a browser); the API authenticates the certificate first, so kubectl is kubernetes-admin.
  kubectl config set-credentials "$ORCH_CONTEXT" --client-certificate="$admin_crt" --client-key="$admin_key" \
    --embed-certs=true --token="$(cat "$ORCH_STATE_DIR/master/token")" >/dev/null
  kubectl config set-context "$ORCH_CONTEXT" --cluster="$ORCH_CONTEXT" --user="$ORCH_CONTEXT" --namespace=default >/dev/null
  kubectl config use-context "$ORCH_CONTEXT" >/dev/null
fi
case "$kubeconfig_file" in *:*) ;; *) echo "$kubeconfig_file $ORCH_CONTEXT $server" >"$kubeconfig_checked" ;; esac

step "waiting for node '$ORCH_NODE_NAME' to be Ready"
# One watch of the Node (as `kubectl wait`), read with curl as kubernetes-admin (the certificate just issued) and jq:
# the master sends each change of it as it is written, where a poll every 0.1 s (a curl, a jq, a TLS handshake and a
# request each) took CPU from the node's start on the two cores (issue 19). Ready, and schedulable: the node is created
# with node.kubernetes.io/not-ready:NoSchedule (TaintNodesByCondition), which the node lifecycle controller takes off
# as soon as it sees the Ready status. The watch runs in a session of its own, so that it is stopped whole.
node_ready() { # ready heartbeat tainted
  [ "${1:-}" = True ] && [ -n "${2:-}" ] && [ "${3:-1}" = 0 ] && [ "$(date -u -d "$2" +%s)" -ge "$node_started" ]
}
node_state='.object | ([.status.conditions[]? | select(.type == "Ready")][0] | "\(.status) \(.lastHeartbeatTime)")
  + " " + ([.spec.taints[]? | select(.key == "node.kubernetes.io/not-ready" and .effect == "NoSchedule")]
  | length | tostring)'
node_watch_url="$server/api/v1/nodes?watch=1&fieldSelector=metadata.name%3D$ORCH_NODE_NAME"
ready_deadline=$((EPOCHSECONDS + 60)) node_is_ready=0
while [ $node_is_ready -eq 0 ]; do
  exec {node_watch}< <(close_inherited_fds
    exec setsid bash -c 'curl -sfN --cacert "$1" --cert "$2" --key "$3" "$4" 2>/dev/null | jq --unbuffered -r "$5" 2>/dev/null' \
      _ "$ORCH_STATE_DIR/master/ca.crt" "$admin_crt" "$admin_key" \
      "$node_watch_url&timeoutSeconds=$((ready_deadline - EPOCHSECONDS + 1))" "$node_state")
  node_watch_pid=$!
  while :; do
    if read -r -t 0.5 -u "$node_watch" ready heartbeat tainted; then
      if node_ready "$ready" "$heartbeat" "$tainted"; then node_is_ready=1; break; fi
    elif [ $? -le 128 ]; then
      break # the watch ended (refused, or closed by the master): watched again below
    fi
    [ -n "$(running_pid node)" ] || die "the node exited during start-up: $(tail -n 1 "$node_log") (see $node_log)"
    [ "$EPOCHSECONDS" -lt "$ready_deadline" ] || die "node '$ORCH_NODE_NAME' was not Ready within 60 s (see $node_log)"
  done
  kill -TERM -- "-$node_watch_pid" 2>/dev/null || true
  exec {node_watch}<&-
  if [ $node_is_ready -eq 0 ]; then
    [ "$EPOCHSECONDS" -lt "$ready_deadline" ] || die "node '$ORCH_NODE_NAME' was not Ready within 60 s (see $node_log)"
    nap 0.1
  fi
done

elapsed_ms=$(( $(date +%s%3N) - started_ms ))
elapsed="$((elapsed_ms / 1000)).$(( (elapsed_ms % 1000) / 100 ))"
cat <<MSG

Orchestrator is up in ${elapsed}s: master $server (pid $(running_pid master)), node '$ORCH_NODE_NAME' Ready (pid $(running_pid node)$([ $one_process -eq 1 ] && echo ", the same process")).
kubectl now uses the context '$ORCH_CONTEXT'. Try:
  kubectl get nodes
  kubectl create deployment http --image=katacoda/docker-http-server:latest
  kubectl expose deployment http --external-ip=127.0.0.50 --port=8000 --target-port=80
  curl http://127.0.0.50:8000
Logs: $ORCH_STATE_DIR/logs   Stop: deploy/down.sh (add --purge to forget the cluster's objects)
MSG
if [ -n "$orchctl_path_line" ]; then
  say "orchctl is not on your PATH; this line puts it there: $orchctl_path_line"
fi
