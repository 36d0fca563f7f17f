using Xunit;

// Every single-node class brings up its own cluster (deploy/up.sh) on the same fixed ports (NodePort 30080, hostPort
// 8001, …), or shares one with the other classes of SharedClusterCollection (ClusterFixture.cs): they run one after
// another, the assembly's one collection and that one never side by side.
// The lab classes (LabTests and NonGracefulNodeShutdownTests on LabFixture; MultiMasterLabTests, with the steps of
// MultiMasterReplicaTests.cs, on MultiMasterLabFixture) are the collection LabFixtureBase.Collection, one class after
// another (both labs use lab-node-i on 127.0.0.(10+i) and the master address 127.0.0.10). Nothing shared stops that collection from running beside the single-node one any
// more: the lab has its own Docker network and bridge (orchestrator-lab, orchlab0) on 172.29.0.0/16, so its masters'
// ClusterIPs (172.29.128.0/17, the master's --service-cidr) are other addresses on another bridge than the single
// node's (172.28.128.0/17 on orch0) and no ClusterIP listener is shared through SO_REUSEPORT; its pod ranges
// (172.29.i.0/24) are outside the single node's (172.28.0.0/17); its LoadBalancer pool, node addresses, health ports,
// state directory and kubeconfig are its own; both share one build directory that deploy/lib/build.sh builds for one
// caller at a time; each down script removes only its own nodes' containers and its own bridge's addresses.
// Parallelization stayed off (DisableTestParallelization) until the lab drills' timing held beside a second
// cluster. Measured 2026-12-04 on a machine other work also loaded (1-min load 10-34): beside Guestbook the
// multi-master kill-leader drill's first accepted write came 16.2 s after the SIGKILL (10.1 s alone; issue #20's bound
// 15 s), and LabTests' kill-node drill, run after the single-node classes had ended, missed its 25 s bound (25.3 s;
// 19.9 s in the run alone).
// Again on a quiet machine (2026-12-04 17:24, nothing else running, load 2.6 -> 13 with the two clusters): the kill-node
// drill missed again (NotReady 19.4 s, rescheduled 25.4 s) beside GuestbookTests, and the side-by-side run saved only
// about 2.8 of 13.9 minutes (the two cores are busy either way).
// The kill-node drill's lateness was partly the master's: its node lifecycle controller stamped a lease renewal on the
// monitor pass after it and judged the node on whole passes, so NotReady came 15.2-16.4 s after the last renewal
// (grace 15 s, period 1 s); it now comes when the grace period runs out (15.05-15.07 s). The rest grows with the
// load outside the master: bash starting kill-node.sh (up to 2.5 s before the SIGKILL at load 30) and Docker starting
// the replacement pods' sandboxes (5.6-5.7 s after the node took them, at load 25-48).
// Side by side again (2026-12-04, machine shared with other engineers' builds and tests, 1-min load 12-48), the
// command with the six classes (LabTests, MultiMaster*, Walkthrough, Guestbook, PodLifecycle, WorkloadControllers)
// passed 38 of 38 twice: 18:59-19:12 (12.6 min) kill-node NotReady 16.0 s, rescheduled 22.8 s (bound 25 s),
// kill-leader first write 11.0 s (bound 15 s); 19:14-19:26 (12.1 min) kill-node 17.6 s / 23.2 s, kill-leader
// 14.5 s (margins as thin as 1.8 s and 0.5 s). In the CI run of 67e20f7 (2026-12-04 19:48-20:22, nothing else
// running) all 164 passed and the E2E took 27.8 minutes (33.2 one after another the stop before): kill-node rescheduled
// 21.9 s, kill-leader first write 12.4 s. The next CI run of the same code (6e0cdc1, 20:29-, nothing else running)
// failed the kill-node drill beside the single-node classes: NotReady 16.9 s, rescheduled 26.5 s (bound 25 s), and
// kill-leader's first write came 14.2 s after the SIGKILL (bound 15 s). So parallelization is off again: beside a
// second cluster on two cores the drills' rescheduling (Docker starting the replacement sandboxes) and the multi-master
// failover sit at their bounds. To run the two collections side by side, set DisableTestParallelization = false.
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly, DisableTestParallelization = true)]
