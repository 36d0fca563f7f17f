using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// Deletion as client libraries use it, on a real cluster started by deploy/up.sh: a Job deleted with
/// <c>--cascade=foreground</c> (propagationPolicy Foreground) goes once its pods are gone, instead of staying
/// Terminating; an Endpoints object without a Service (a leader-election lock, as the client libraries' EndpointsLock
/// keeps one) is left alone by the endpoints controller while it manages a Service's Endpoints beside it.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class DeletionPropagationTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly string Suffix = Guid.NewGuid().ToString("N")[..6];

    [Fact]
    public async Task A_job_deleted_in_the_foreground_goes_after_its_pods()
    {
        var job = $"fg-{Suffix}";
        await Kubectl("create", "job", job, "--image=busybox:latest", "--",
            "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait");
        await cluster.Eventually(async () =>
            Assert.NotEmpty((await Kubectl("get", "pods", "-l", $"batch.kubernetes.io/job-name={job}", "-o", "name")).Trim()),
            "the job's pod exists");

        // kubectl waits until the Job is gone: with the foregroundDeletion finalizer left in place it would time out.
        await Kubectl("delete", "job", job, "--cascade=foreground", "--timeout=90s");

        Assert.Empty((await Kubectl("get", "pods", "-l", $"batch.kubernetes.io/job-name={job}", "-o", "name")).Trim());
    }

    [Fact]
    public async Task An_endpoints_without_a_service_is_kept_while_a_services_endpoints_are_managed()
    {
        var lockName = $"lock-{Suffix}";
        var service = $"svc-{Suffix}";
        try
        {
            var created = await cluster.KubectlWithInput($$"""
                apiVersion: v1
                kind: Endpoints
                metadata:
                  name: {{lockName}}
                  annotations:
                    control-plane.alpha.kubernetes.io/leader: '{"holderIdentity":"e2e","leaseDurationSeconds":15}'
                """, "create", "-f", "-");
            Assert.True(created.ExitCode == 0, created.ToString());
            await Kubectl("create", "service", "clusterip", service, "--tcp=80:80");

            // The controller has reconciled since the lock was made once it has written the Service's Endpoints.
            await cluster.Eventually(async () => Assert.Equal(service,
                (await Kubectl("get", "endpoints", service, "-o", "jsonpath={.metadata.name}", "--ignore-not-found")).Trim()),
                "the Service's Endpoints exist");
            Assert.Contains("e2e", await Kubectl("get", "endpoints", lockName, "-o", "jsonpath={.metadata.annotations}"));
        }
        finally
        {
            await cluster.Kubectl("delete", "service", service, "--ignore-not-found", "--wait=false");
            await cluster.Kubectl("delete", "endpoints", lockName, "--ignore-not-found", "--wait=false");
        }
    }

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        output.WriteLine($"kubectl {string.Join(" ", args)}: {result.ExitCode}");
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(" ", args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }
}
