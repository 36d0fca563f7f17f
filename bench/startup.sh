#!/usr/bin/env bash
# Startup benchmark: time from `deploy/up.sh` to a Ready node on a warm machine (build and images already done),
# and the resident memory (RSS) of the master and the node at idle, in both modes of deploy/up.sh, interleaved in the
# same run: one process (the default, ORCH_ONE_PROCESS=1: orchestrator-all-in-one, the master and the node in one
# process) and two (ORCH_ONE_PROCESS=0). Runs in a private state directory and kubeconfig with its own ports, so a running cluster is not
# disturbed. Baseline measured in the same run: `docker run` of the demo image until it answers HTTP (the cost of one
# container, which the cluster adds to).
# Also the CPU time (user + system) the master and the node spent until Ready: on a shared machine the wall time
# moves with the neighbours' load, the CPU time much less, so it is the figure to compare builds by. And how long
# deploy/down.sh takes to stop the idle cluster.
#
#   bench/startup.sh [runs]      (default 5) — each run starts the cluster once in each mode (the order alternates
#                                run by run); prints medians per mode. MODES="two one" (default) or one of them.
#   It takes the machine's cluster lock (/tmp/orchestrator-e2e.lock) itself; BENCH_LOCKED=1 when the caller holds it.
set -euo pipefail
if [ -z "${BENCH_LOCKED:-}" ]; then
  exec env BENCH_LOCKED=1 flock -w 900 /tmp/orchestrator-e2e.lock "$0" "$@"
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-5}"
modes=(${MODES:-two one})
source "$root/bench/startup-env.sh"

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.0f\n", (a[NR/2]+a[NR/2+1])/2}'; }
now_ms() { date +%s%3N; }
# one process is deploy/up.sh as it starts by default (whatever the caller's ORCH_ONE_PROCESS), two is ORCH_ONE_PROCESS=0
up() { if [ "$1" = one ]; then env -u ORCH_ONE_PROCESS "$root/deploy/up.sh"; else ORCH_ONE_PROCESS=0 "$root/deploy/up.sh"; fi >/dev/null; }

"$root/deploy/down.sh" --purge >/dev/null
echo "warming up (build + images)…"
for mode in "${modes[@]}"; do up "$mode"; "$root/deploy/down.sh" >/dev/null; done

# CPU seconds (user + system, clock ticks of /proc/PID/stat fields 14 and 15) a process has used so far.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%d\n", ($12 + $13) * 1000 / hz }' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# RSS by kind of page (KiB, /proc/PID/status): anonymous (GC heap, malloc, stacks) / files (assemblies, native
# libraries) / shared (the runtime's W^X double-mapped JIT code and stubs)
split() { awk '$1 == "RssAnon:" {a=$2} $1 == "RssFile:" {f=$2} $1 == "RssShmem:" {s=$2} END {print a "/" f "/" s}' "/proc/$1/status"; }

declare -A up_times cpu_times rss_total down_times
docker_times=()
for i in $(seq 1 "$runs"); do
  order=("${modes[@]}")
  [ $((i % 2)) -eq 0 ] && [ ${#modes[@]} -eq 2 ] && order=("${modes[1]}" "${modes[0]}")
  for mode in "${order[@]}"; do
    start=$(now_ms)
    up "$mode"
    up_ms=$(( $(now_ms) - start ))
    master=$(cat "$ORCH_STATE_DIR/master.pid") node=$(cat "$ORCH_STATE_DIR/node.pid")
    if [ "$master" = "$node" ]; then cpu=$(cpu_ms "$master"); else cpu=$(( $(cpu_ms "$master") + $(cpu_ms "$node") )); fi
    sleep 10   # idle
    if [ "$master" = "$node" ]; then
      total=$(rss "$master")
      what="one process $total KiB (anon/file/shared $(split "$master"))"
    else
      total=$(( $(rss "$master") + $(rss "$node") ))
      what="master $(rss "$master") + node $(rss "$node") = $total KiB (anon/file/shared: master $(split "$master"), node $(split "$node"))"
    fi
    start=$(now_ms)
    "$root/deploy/down.sh" >/dev/null
    down_ms=$(( $(now_ms) - start ))
    up_times[$mode]+="$up_ms " cpu_times[$mode]+="$cpu " rss_total[$mode]+="$total " down_times[$mode]+="$down_ms "
    echo "run $i, $mode process$([ "$mode" = two ] && echo es): up→Ready $up_ms ms (CPU $cpu ms), $what, down.sh $down_ms ms, 1-min load $(cut -d' ' -f1 /proc/loadavg)"
  done

  start=$(now_ms)
  docker run -d --rm --name orch-bench-baseline -p 127.0.0.1:28080:80 katacoda/docker-http-server:latest >/dev/null
  until curl -sf 127.0.0.1:28080 >/dev/null; do sleep 0.05; done
  docker_times+=($(( $(now_ms) - start )))
  docker rm -f orch-bench-baseline >/dev/null
  echo "run $i: docker run→HTTP ${docker_times[-1]} ms"
done
"$root/deploy/down.sh" --purge >/dev/null

verdict() { awk -v v="$1" -v g="$2" 'BEGIN { print (v <= g) ? "met" : "not met" }'; }
med() { printf '%s\n' $1 | median; }
base=$(printf '%s\n' "${docker_times[@]}" | median)
echo
echo "median over $runs runs (baseline docker run → HTTP: $base ms):"
for mode in "${modes[@]}"; do
  up=$(med "${up_times[$mode]}") together=$(med "${rss_total[$mode]}")
  echo "  $mode process$([ "$mode" = two ] && echo "es (master + node, ORCH_ONE_PROCESS=0)" || echo " (orchestrator-all-in-one, deploy/up.sh's default)"):"
  echo "    deploy/up.sh → node Ready:  $up ms  (goal ≤ 2000 ms warm: $(verdict "$up" 2000); $(awk "BEGIN {printf \"%.1f\", $up/$base}")x docker run)"
  echo "    CPU until Ready:            $(med "${cpu_times[$mode]}") ms"
  echo "    RSS at idle (10 s):         $together KiB  (goal ≤ 256000 KiB = 250 MB: $(verdict "$together" 256000))"
  echo "    deploy/down.sh (idle):      $(med "${down_times[$mode]}") ms"
done
