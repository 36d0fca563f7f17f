#!/usr/bin/env bash
# Measures write failover (issue #20: within 15 s): kills the master holding the control plane (SIGKILL), creates a
# ConfigMap every 100 ms through the other masters (curl, 3 s timeout) until one is accepted, prints the time from
# the kill to that first 201, restarts the killed master (it joins as the youngest follower) and repeats with the next
# leader. Needs a running lab with several masters (deploy/lab/up.sh --masters 3). Usage: failover-drill.sh [ROUNDS (3)]
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
rounds=${1:-3}
[[ "$rounds" =~ ^[0-9]+$ ]] && [ "$rounds" -ge 1 ] || die "usage: deploy/lab/failover-drill.sh [ROUNDS]"
n_masters=$(lab_masters)
[ "$n_masters" -ge 3 ] || die "the drill needs a lab with 3 or more masters (deploy/lab/up.sh --masters 3)"
token=$(cat "$ORCH_STATE_DIR/master/token")

# the master holding the control plane: the oldest, i.e. the one whose log says so last among the running ones
leader() {
  local i best="" best_at=""
  for i in $(live_masters); do
    local at; at=$(grep -h "This master holds the control plane" "$ORCH_STATE_DIR/logs/$(master_key "$i").log" 2>/dev/null | tail -n 1 | cut -d' ' -f1)
    if [ -n "$at" ] && [[ "$at" > "$best_at" ]]; then best=$i best_at=$at; fi
  done
  echo "$best"
}

create() { # master-index name → HTTP status
  curl -sk -m 3 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -X POST "$(master_server "$1")/api/v1/namespaces/default/configmaps" \
    -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"$2\"}}" || true
}

# how often the cluster leader has moved master I to Up (in every member's log: Akka's leader is the member with the
# lowest address, a node when the masters' address is above the nodes')
ups() { cat "$ORCH_STATE_DIR"/logs/*.log 2>/dev/null | grep -c "moving node \[[a-z.]*://orchestrator@$ORCH_API_ADDRESS:$(master_cluster_port "$1")\] to \[Up\]" || true; }

n=0 results=()
for round in $(seq 1 "$rounds"); do
  victim=$(leader)
  [ -n "$victim" ] || die "no running master holds the control plane"
  others=(); for i in $(live_masters); do [ "$i" != "$victim" ] && others+=("$i"); done
  "$LAB_ROOT/deploy/lab/kill-master.sh" "master-$victim" >/dev/null
  killed=$(date +%s%3N)
  while :; do
    n=$((n + 1))
    [ "$(create "${others[$((n % ${#others[@]}))]}" "failover-drill-$killed-$n")" = 201 ] && break
    [ $(( $(date +%s%3N) - killed )) -lt 90000 ] || die "round $round: no write accepted within 90 s of killing master-$victim"
    sleep 0.1
  done
  ms=$(( $(date +%s%3N) - killed ))
  results+=("$ms")
  say "round $round: killed master-$victim (the leader); first write accepted after $((ms / 1000)).$(( (ms % 1000) / 100 )) s"
  up_before=$(ups "$victim")
  "$LAB_ROOT/deploy/lab/restart-master.sh" "master-$victim" >/dev/null
  # until the restarted master is Up, keep-majority does not count it: killing the leader then would leave one master
  # against the dead one, a tie that the side with the lowest address (the dead leader's) wins, and the cluster stops
  for _ in $(seq 1 120); do [ "$(ups "$victim")" -gt "$up_before" ] && break; sleep 0.25; done
  [ "$(ups "$victim")" -gt "$up_before" ] || die "master-$victim did not become Up within 30 s of its restart"
  sleep 5 # the leader's log says Up at once; the other masters learn it by gossip (seen killing the leader 1 s later)
done
say "first accepted write after the leader's SIGKILL, $rounds round(s): $(for ms in "${results[@]}"; do printf '%d.%d s ' $((ms / 1000)) $(( (ms % 1000) / 100 )); done)"
