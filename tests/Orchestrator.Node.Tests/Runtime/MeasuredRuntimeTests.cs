using System.Text;
using System.Text.RegularExpressions;
using k8s.Models;
using Orchestrator.Node.Runtime;
using Prometheus;
using Xunit;

namespace Orchestrator.Node.Tests.Runtime;

public sealed class MeasuredRuntimeTests
{
    private static SandboxRequest Request() => new(new V1Pod
    {
        Metadata = new V1ObjectMeta { Name = "measured", NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "app:1" }] },
    }, "node-a", "127.0.0.1", 0);

    private static async Task<(long Count, long Errors, string Text)> RunPodSandboxSeries()
    {
        using var stream = new MemoryStream();
        await Orchestrator.Node.Diagnostics.NodeMetrics.Registry.CollectAndExportAsTextAsync(stream);
        var text = Encoding.UTF8.GetString(stream.ToArray());
        static long Value(string text, string pattern) =>
            Regex.Match(text, pattern, RegexOptions.Multiline) is { Success: true } m ? long.Parse(m.Groups[1].Value) : 0;
        return (Value(text, "^kubelet_runtime_operations_duration_seconds_count\\{operation_type=\"run_podsandbox\"\\} (\\d+)"),
            Value(text, "^kubelet_runtime_operations_errors_total\\{operation_type=\"run_podsandbox\"\\} (\\d+)"), text);
    }

    [Fact]
    public async Task A_sandbox_made_in_two_steps_is_one_run_podsandbox_as_the_kubelet_reports_it()
    {
        var runtime = new MeasuredRuntime(new FakeRuntime { SplitSandbox = true });
        var before = await RunPodSandboxSeries();

        var created = await runtime.CreateSandboxAsync(Request());
        await runtime.StartSandboxAsync(created);

        var after = await RunPodSandboxSeries();
        Assert.True(after.Count >= before.Count + 1, $"run_podsandbox count {before.Count} → {after.Count}");
        Assert.DoesNotContain("kubelet_runtime_operations_duration_seconds_count{operation_type=\"create_podsandbox\"}", after.Text);
        Assert.DoesNotContain("kubelet_runtime_operations_duration_seconds_count{operation_type=\"start_podsandbox\"}", after.Text);
    }

    [Fact]
    public async Task A_sandbox_that_fails_to_start_counts_as_a_failed_run_podsandbox()
    {
        var runtime = new MeasuredRuntime(new FakeRuntime { SplitSandbox = true, SandboxStartFailure = "no address" });
        var before = await RunPodSandboxSeries();

        var created = await runtime.CreateSandboxAsync(Request());
        await Assert.ThrowsAsync<InvalidOperationException>(() => runtime.StartSandboxAsync(created));

        var after = await RunPodSandboxSeries();
        Assert.True(after.Errors >= before.Errors + 1, $"run_podsandbox errors {before.Errors} → {after.Errors}");
    }
}
