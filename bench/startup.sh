#!/usr/bin/env bash
# Startup benchmark: time from `deploy/up.sh` to a Ready node on a warm machine (build and images already done),
# and the resident memory (RSS) of the master and the node at idle. Runs in a private state directory and
# kubeconfig with its own ports, so a running cluster is not disturbed. Baseline measured in the same run:
# `docker run` of the demo image until it answers HTTP (the cost of one container, which the cluster adds to).
# Also the CPU time (user + system) the master and the node spent until Ready: on a shared machine the wall time
# moves with the neighbours' load, the CPU time much less, so it is the figure to compare builds by. And how long
# deploy/down.sh takes to stop the idle cluster.
#
#   bench/startup.sh [runs]      (default 5) — prints medians.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-5}"
source "$root/bench/startup-env.sh"

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.0f\n", (a[NR/2]+a[NR/2+1])/2}'; }
now_ms() { date +%s%3N; }

"$root/deploy/down.sh" --purge >/dev/null
echo "warming up (build + images)…"
"$root/deploy/up.sh" >/dev/null
"$root/deploy/down.sh" >/dev/null

# CPU seconds (user + system, clock ticks of /proc/PID/stat fields 14 and 15) a process has used so far.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%d\n", ($12 + $13) * 1000 / hz }' "/proc/$1/stat"; }

# RSS by kind of page (KiB, /proc/PID/status): anonymous (GC heap, malloc, stacks) / files (assemblies, native
# libraries) / shared (the runtime's W^X double-mapped JIT code and stubs)
split() { awk '$1 == "RssAnon:" {a=$2} $1 == "RssFile:" {f=$2} $1 == "RssShmem:" {s=$2} END {print a "/" f "/" s}' "/proc/$1/status"; }

up_times=() master_rss=() node_rss=() docker_times=() cpu_times=() down_times=()
for i in $(seq 1 "$runs"); do
  start=$(now_ms)
  "$root/deploy/up.sh" >/dev/null
  up_times+=($(( $(now_ms) - start )))
  cpu_times+=($(( $(cpu_ms "$(cat "$ORCH_STATE_DIR/master.pid")") + $(cpu_ms "$(cat "$ORCH_STATE_DIR/node.pid")") )))
  sleep 10   # idle
  master_rss+=($(awk '/VmRSS/ {print $2}' "/proc/$(cat "$ORCH_STATE_DIR/master.pid")/status"))
  node_rss+=($(awk '/VmRSS/ {print $2}' "/proc/$(cat "$ORCH_STATE_DIR/node.pid")/status"))
  kinds="anon/file/shared KiB: master $(split "$(cat "$ORCH_STATE_DIR/master.pid")"), node $(split "$(cat "$ORCH_STATE_DIR/node.pid")")"
  start=$(now_ms)
  "$root/deploy/down.sh" >/dev/null
  down_times+=($(( $(now_ms) - start )))

  start=$(now_ms)
  docker run -d --rm --name orch-bench-baseline -p 127.0.0.1:28080:80 katacoda/docker-http-server:latest >/dev/null
  until curl -sf 127.0.0.1:28080 >/dev/null; do sleep 0.05; done
  docker_times+=($(( $(now_ms) - start )))
  docker rm -f orch-bench-baseline >/dev/null
  echo "run $i: up→Ready ${up_times[-1]} ms (CPU ${cpu_times[-1]} ms), master ${master_rss[-1]} KiB, node ${node_rss[-1]} KiB, docker run→HTTP ${docker_times[-1]} ms, down.sh ${down_times[-1]} ms ($kinds)"
done
"$root/deploy/down.sh" --purge >/dev/null

up=$(printf '%s\n' "${up_times[@]}" | median)
base=$(printf '%s\n' "${docker_times[@]}" | median)
echo
echo "median over $runs runs:"
verdict() { awk -v v="$1" -v g="$2" 'BEGIN { print (v <= g) ? "met" : "not met" }'; }
echo "  deploy/up.sh → node Ready:  $up ms  (goal ≤ 2000 ms warm: $(verdict "$up" 2000))"
echo "  CPU of master + node until Ready: $(printf '%s\n' "${cpu_times[@]}" | median) ms"
echo "  deploy/down.sh (idle cluster): $(printf '%s\n' "${down_times[@]}" | median) ms"
echo "  baseline docker run → HTTP: $base ms  (ratio $(awk "BEGIN {printf \"%.1f\", $up/$base}")x)"
echo "  master RSS at idle:         $(printf '%s\n' "${master_rss[@]}" | median) KiB"
echo "  node RSS at idle:           $(printf '%s\n' "${node_rss[@]}" | median) KiB"
together=$(( $(printf '%s\n' "${master_rss[@]}" | median) + $(printf '%s\n' "${node_rss[@]}" | median) ))
echo "  master + node RSS at idle:  $together KiB  (goal ≤ 256000 KiB = 250 MB: $(verdict "$together" 256000))"
