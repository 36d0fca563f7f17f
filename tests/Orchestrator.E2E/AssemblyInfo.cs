using Xunit;

// Every E2E class brings up its own cluster on the same fixed ports (NodePort 30080, hostPort 8001, …):
// classes must run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
