using Xunit;

// Every single-node class brings up its own cluster (deploy/up.sh) on the same fixed ports (NodePort 30080, hostPort
// 8001, …): they share the assembly's one collection and run one after another.
// The lab classes (LabTests on LabFixture; MultiMasterLabTests and MultiMasterReplicaTests on MultiMasterLabFixture) are
// the collection LabFixtureBase.Collection, one class after another (both labs use lab-node-i on 127.0.0.(10+i) and
// the master address 127.0.0.10), and that collection runs beside the single-node one: the lab has its own Docker
// network and bridge (orchestrator-lab, orchlab0) on 172.29.0.0/16, so its masters' ClusterIPs (172.29.128.0/17, the
// master's --service-cidr) are other addresses on another bridge than the single node's (172.28.128.0/17 on orch0) and
// no ClusterIP listener is shared through SO_REUSEPORT; its pod ranges (172.29.i.0/24) are outside the single node's
// (172.28.0.0/17); its LoadBalancer pool, node addresses, health ports, state directory, kubeconfig and build directory
// (artifacts/e2e-lab-bin) are its own; each down script removes only its own nodes' containers and its own bridge's
// addresses (deploy/lib/common.sh's release_node_addresses BRIDGE).
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly, MaxParallelThreads = 2)]
