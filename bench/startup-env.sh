# The private cluster of the start-up benchmarks (bench/startup.sh, bench/startup-timeline.sh): state directory,
# ports, context, node name and kubeconfig of their own, so a running cluster is not disturbed. Sourced; needs $root.
export ORCH_STATE_DIR="$root/artifacts/bench-startup"
export ORCH_API_PORT=26443 ORCH_CLUSTER_PORT=24050 ORCH_CONTEXT=orchestrator-bench ORCH_NODE_NAME=bench-startup
export KUBECONFIG="$ORCH_STATE_DIR/kubeconfig"
mkdir -p "$ORCH_STATE_DIR"
