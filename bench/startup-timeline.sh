#!/usr/bin/env bash
# One warm `deploy/up.sh` as a timeline: every command of up.sh with a timestamp (bash -x with PS4 set to
# ${EPOCHREALTIME}, which costs no process) merged with the master's and the node's log lines, all in seconds since
# up.sh started. The bench's private state directory, ports and node name (as bench/startup.sh); run it under
# `flock -w 900 /tmp/orchestrator-e2e.lock`. ORCH_BUILD_DIR picks another build; ORCH_ONE_PROCESS=1 times the one
# process (orchestrator-all-in-one: one log, its lines tagged [master] / [node]) instead of two.
#
#   bench/startup-timeline.sh OUT     — writes OUT (the timeline) and OUT.trace and the raw logs (OUT.master, OUT.node;
#                                        OUT.all-in-one in one process)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out=${1:?usage: bench/startup-timeline.sh OUT}
source "$root/bench/startup-env.sh"
logs=(master node)
[ "${ORCH_ONE_PROCESS:-0}" = 1 ] && logs=(all-in-one)
"$root/deploy/down.sh" >/dev/null
"$root/deploy/up.sh" >/dev/null   # warm: build, images, kubeconfig and the master's data exist
"$root/deploy/down.sh" >/dev/null
for f in "${logs[@]}"; do : >"$ORCH_STATE_DIR/logs/$f.log"; done
sleep 2
# bash takes no PS4 from the environment when run as root: set it inside
bash -c 'PS4="+\${EPOCHREALTIME} "; set -x; . "$0"' "$root/deploy/up.sh" >/dev/null 2>"$out.trace"
end=$EPOCHREALTIME
for f in "${logs[@]}"; do cp "$ORCH_STATE_DIR/logs/$f.log" "$out.$f"; done
"$root/deploy/down.sh" >/dev/null
t0=$(grep -m1 -E '^\++[0-9]' "$out.trace" | sed -E 's/^\++([0-9.]+) .*/\1/')
{
  grep -E '^\++[0-9]' "$out.trace" | sed -E 's/^\++([0-9.]+) (.*)/\1 up.sh \2/'
  for f in "${logs[@]}"; do
    grep -E '^[0-9]{4}-' "$out.$f" | while IFS= read -r line; do
      echo "$(date -u -d "${line:0:23}" +%s.%N) $f ${line:24}"
    done
  done
  echo "$end up.sh END"
} | sort -n | awk -v t0="$t0" '{ t = $1; $1 = ""; printf "%7.3f %s\n", t - t0, substr($0, 2, 220) }' >"$out"
echo "up.sh took $(awk -v a="$t0" -v b="$end" 'BEGIN { printf "%.3f", b - a }') s; timeline in $out"
