using Xunit;

// Every E2E class brings up its own cluster on the same fixed ports (NodePort 30080, hostPort 8001, …):
// classes must run one after another.
// Nor can the lab classes (LabFixture, MultiMasterLabFixture) run beside the single-node ones yet (checked for CI's
// run time, 2026-12-04): every cluster on the machine joins the one Docker network and bridge (orch0), the masters
// all allocate ClusterIPs from its upper half (each cluster's "kubernetes" Service gets the same first address) and
// the nodes' proxies bind ClusterIP listeners with SO_REUSEPORT, so the kernel would hand one cluster's connections
// to the other's proxy; the single-node pod range (the whole lower half) holds the lab nodes' 172.28.i.0/24; and both
// build into artifacts/e2e-state/bin. Separating them needs a service range per cluster (and a pod range for the single
// node), then several full runs to show the lab drills' timing holds with a second cluster taking the CPU.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
