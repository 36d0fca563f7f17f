using System.Diagnostics;
using System.Net.Http;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// A rolling update on the real cluster: a 3-replica deployment behind a NodePort service gets a new image tag
/// (`kubectl set image`) while a bounded request loop runs and kubectl samples the pods. The new pods serve at the
/// end, the old ones are gone, and at every sample the pods stay within replicas + maxSurge and at least
/// replicas - maxUnavailable are ready (defaults 25%: maxSurge 1, maxUnavailable 0; minReadySeconds 2). The host name on the page is
/// the pod's name, so it tells which ReplicaSet answered. Failed requests are counted and written to the output:
/// readiness probes are not implemented yet ("ready" = container running), so a request may reach a pod that is
/// being removed.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class RollingUpdateTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private const string Name = "rollout-web";
    private const int NodePort = 30181;
    private const string NewImage = "orchestrator/http-server:e2e-rollout-v2";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };

    [Fact]
    public async Task Set_image_rolls_out_within_bounds_while_requests_run()
    {
        await Docker("tag", "katacoda/docker-http-server:latest", NewImage);
        try
        {
            await Kubectl("create", "deployment", Name, "--image=katacoda/docker-http-server:latest", "--replicas=3");
            await Kubectl("create", "service", "nodeport", Name, "--tcp=80:80", $"--node-port={NodePort}");
            // A new pod counts as available 2 s after it is ready: the rollout takes long enough to be watched.
            await Kubectl("patch", $"deployment/{Name}", "-p", """{"spec":{"minReadySeconds":2}}""");
            await Kubectl("rollout", "status", $"deployment/{Name}", "--timeout=120s");
            var oldPods = (await Pods()).Select(p => p.Name).ToHashSet();
            Assert.Equal(3, oldPods.Count);
            await Eventually(async () => Assert.Contains(await ServedHost(), oldPods), "an answer from an old pod");

            using var stop = new CancellationTokenSource();
            var requests = RequestLoop(oldPods, stop.Token);
            var samples = SampleLoop(stop.Token);

            await Kubectl("set", "image", $"deployment/{Name}", $"docker-http-server={NewImage}");
            var rollout = Stopwatch.StartNew();
            await Kubectl("rollout", "status", $"deployment/{Name}", "--timeout=120s");
            output.WriteLine($"rollout finished in {rollout.Elapsed.TotalSeconds:F1} s");
            var newPods = (await Pods()).ToList();
            Assert.Equal(3, newPods.Count);
            Assert.All(newPods, p => Assert.Equal(NewImage, p.Image));
            Assert.Empty(newPods.Select(p => p.Name).Intersect(oldPods));

            // Only new pods answer once the proxy has caught up.
            var newNames = newPods.Select(p => p.Name).ToHashSet();
            await Eventually(async () =>
            {
                for (var i = 0; i < 10; i++) Assert.Contains(await ServedHost(), newNames);
            }, "ten answers in a row from new pods");
            await Task.Delay(1000);
            await stop.CancelAsync();
            var (sent, failed, byOld, byNew, failures) = await requests;
            var observed = await samples;

            output.WriteLine($"requests during the rollout: {sent} sent, {failed} failed, {byOld} answered by old pods, {byNew} by new pods");
            foreach (var f in failures.Take(5)) output.WriteLine($"  failure: {f}");
            output.WriteLine($"pod samples: {observed.Count}; pods min {observed.Min(s => s.Pods)} max {observed.Max(s => s.Pods)}; " +
                             $"ready min {observed.Min(s => s.Ready)} max {observed.Max(s => s.Ready)}");
            Assert.True(observed.Count >= 3, "too few samples");
            Assert.All(observed, s =>
            {
                Assert.True(s.Pods <= 4, $"{s.Pods} pods > replicas 3 + maxSurge 1 at {s.At:O}");
                Assert.True(s.Ready >= 3, $"{s.Ready} ready < replicas 3 - maxUnavailable 0 at {s.At:O}");
            });
            Assert.True(byNew > 0, "no request reached a new pod");
            await Eventually(async () => Assert.Empty((await ClusterFixture.PodNamesOnNode()).Intersect(oldPods)), "the old pods' containers removed");
        }
        finally
        {
            await cluster.Kubectl("delete", "service", Name, "--ignore-not-found");
            await cluster.Kubectl("delete", "deployment", Name, "--ignore-not-found");
            await Docker("rmi", NewImage);
        }

        async Task<(int Sent, int Failed, int ByOld, int ByNew, List<string> Failures)> RequestLoop(HashSet<string> oldNames, CancellationToken stop)
        {
            var (sent, failed, byOld, byNew, failures) = (0, 0, 0, 0, new List<string>());
            var clock = Stopwatch.StartNew();
            while (!stop.IsCancellationRequested && clock.Elapsed < TimeSpan.FromMinutes(3) && sent < 5000)
            {
                sent++;
                try
                {
                    var host = await ServedHost();
                    if (oldNames.Contains(host)) byOld++;
                    else byNew++;
                }
                catch (Exception e)
                {
                    failed++;
                    failures.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {e.GetType().Name}: {e.Message}");
                }
                await Task.Delay(50, CancellationToken.None);
            }
            return (sent, failed, byOld, byNew, failures);
        }

        async Task<List<(DateTime At, int Pods, int Ready)>> SampleLoop(CancellationToken stop)
        {
            var observed = new List<(DateTime, int, int)>();
            while (!stop.IsCancellationRequested)
            {
                var pods = await Pods();
                observed.Add((DateTime.UtcNow, pods.Count, pods.Count(p => p.Ready)));
                await Task.Delay(200, CancellationToken.None);
            }
            return observed;
        }
    }

    private sealed record PodView(string Name, string Image, bool Ready);

    private async Task<List<PodView>> Pods()
    {
        var json = JsonNode.Parse(await Kubectl("get", "pods", "-l", $"app={Name}", "-o", "json"))!;
        return json["items"]!.AsArray().Select(p => new PodView(
            p!["metadata"]!["name"]!.ToString(),
            p["spec"]!["containers"]![0]!["image"]!.ToString(),
            p["metadata"]!["deletionTimestamp"] is null &&
            p["status"]?["conditions"]?.AsArray().Any(c => c!["type"]!.ToString() == "Ready" && c["status"]!.ToString() == "True") == true))
            .ToList();
    }

    private static async Task<string> ServedHost()
    {
        var body = await Http.GetStringAsync($"http://127.0.0.1:{NodePort}/");
        var match = DemoPage.HostPage.Match(body);
        if (!match.Success) throw new InvalidOperationException($"unexpected page: {body}");
        return match.Groups[1].Value;
    }

    private static Task<CommandResult> Docker(params string[] args) =>
        Command.Run("docker", args, new Dictionary<string, string>(), TimeSpan.FromSeconds(30));

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)} failed: {result}");
        return result.Output;
    }

    private Task Eventually(Func<Task> assertion, string what) => cluster.Eventually(assertion, what);
}
