#!/usr/bin/env bash
# One clean stop of the bench's idle cluster as a timeline (issue 19): SIGTERM to the node, its exit, then SIGTERM to
# the master and its exit, as deploy/down.sh does, merged with both processes' log lines (the hosting's own Debug lines
# "Hosting stopping/stopped" switched on), in seconds since the node's SIGTERM. "exited" is when the process is a zombie
# or gone, "reaped" when PID 1 has collected it (kill -0 fails). The bench's private cluster (bench/startup-env.sh);
# run it under `flock -w 900 /tmp/orchestrator-e2e.lock`. ORCH_BUILD_DIR picks another build. In one process (up.sh's
# default) one SIGTERM stops both, the node first, and the one log has both's lines; ORCH_ONE_PROCESS=0 times two.
#
#   bench/shutdown-timeline.sh OUT     — writes OUT (the timeline) and OUT.script, OUT.all-in-one (one process) or
#                                        OUT.master and OUT.node (two) (the raw parts)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out=${1:?usage: bench/shutdown-timeline.sh OUT}
source "$root/bench/startup-env.sh"
source "$root/deploy/lib/common.sh" # process_alive: exists and is not a zombie
env "Logging__LogLevel__Microsoft.Extensions.Hosting=Debug" "$root/deploy/up.sh" >/dev/null
sleep 3
master=$(cat "$ORCH_STATE_DIR/master.pid") node=$(cat "$ORCH_STATE_DIR/node.pid")
# what is stopped, in down.sh's order, as "log pid": its log is named after it
if [ "$master" = "$node" ]; then stops=("all-in-one $master"); else stops=("node $node" "master $master"); fi
declare -A lines
for stop in "${stops[@]}"; do lines[${stop% *}]=$(wc -l <"$ORCH_STATE_DIR/logs/${stop% *}.log"); done
for stop in "${stops[@]}"; do
  role=${stop% *} pid=${stop#* }
  echo "$EPOCHREALTIME script SIGTERM $role"
  kill -TERM "$pid"
  while process_alive "$pid"; do sleep 0.01; done
  echo "$EPOCHREALTIME script $role exited"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
  echo "$EPOCHREALTIME script $role reaped"
done >"$out.script"
sleep 0.5
for role in "${!lines[@]}"; do tail -n +$((lines[$role] + 1)) "$ORCH_STATE_DIR/logs/$role.log" >"$out.$role"; done
"$root/deploy/down.sh" >/dev/null
t0=$(head -1 "$out.script" | cut -d' ' -f1)
{
  cat "$out.script"
  for f in "${!lines[@]}"; do
    grep -E '^[0-9]{4}-' "$out.$f" | while IFS= read -r line; do
      echo "$(date -u -d "${line:0:23}" +%s.%N) $f ${line:24}"
    done
  done
} | sort -n | awk -v t0="$t0" '{ t = $1; $1 = ""; printf "%7.3f %s\n", t - t0, substr($0, 2, 200) }' >"$out"
grep -E 'script|Leaving|Exiting\]|shutting down|Hosting stop' "$out"
