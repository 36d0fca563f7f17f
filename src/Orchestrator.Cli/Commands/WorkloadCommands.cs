using k8s;
using k8s.Models;
using Orchestrator.Cli.Kube;
using Orchestrator.Cli.Objects;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Commands;

/// <summary>run, expose and scale: the seed's imperative command lines, through the library's typed operations.</summary>
internal static class WorkloadCommands
{
    public static async Task<int> Run(CommandContext ctx)
    {
        var options = RunOptions.From(ctx.Args);
        if (ctx.Args.Get("restart") is { } restart && restart != "Always")
            throw new UsageException($"--restart={restart} is not supported: orchctl run creates a Deployment, whose pods always restart");
        using var api = ctx.Connect();
        var created = await api.Call(() => api.Client.AppsV1.CreateNamespacedDeploymentAsync(options.ToDeployment(), api.Namespace));
        await ctx.Out.WriteLineAsync($"deployment.apps/{created.Metadata.Name} created");
        return 0;
    }

    public static async Task<int> Expose(CommandContext ctx)
    {
        var (type, name) = TypeAndName(ctx.Args, "expose", "deployment | rc | rs | pod");
        var options = ExposeOptions.From(ctx.Args);
        using var api = ctx.Connect();
        var ns = api.Namespace;
        IDictionary<string, string> selector;
        IDictionary<string, string>? labels;
        IReadOnlyList<int> ports;
        switch (type.Plural)
        {
            case "deployments":
                var deployment = await api.Call(() => api.Client.AppsV1.ReadNamespacedDeploymentAsync(name, ns));
                selector = ExposeOptions.SelectorOf(deployment.Spec.Selector, $"deployment {name}");
                labels = deployment.Metadata.Labels;
                ports = PortsOf(deployment.Spec.Template.Spec);
                break;
            case "replicasets":
                var rs = await api.Call(() => api.Client.AppsV1.ReadNamespacedReplicaSetAsync(name, ns));
                selector = ExposeOptions.SelectorOf(rs.Spec.Selector, $"replicaset {name}");
                labels = rs.Metadata.Labels;
                ports = PortsOf(rs.Spec.Template?.Spec);
                break;
            case "replicationcontrollers":
                var rc = await api.Call(() => api.Client.CoreV1.ReadNamespacedReplicationControllerAsync(name, ns));
                selector = rc.Spec.Selector is { Count: > 0 } s ? s : rc.Spec.Template?.Metadata?.Labels
                    ?? throw new CliException($"error: cannot expose replicationcontroller {name}: it has no selector");
                labels = rc.Metadata.Labels;
                ports = PortsOf(rc.Spec.Template?.Spec);
                break;
            case "pods":
                var pod = await api.Call(() => api.Client.CoreV1.ReadNamespacedPodAsync(name, ns));
                selector = pod.Metadata.Labels is { Count: > 0 } l ? l
                    : throw new CliException($"error: cannot expose pod {name}: it has no labels to select it by");
                labels = pod.Metadata.Labels;
                ports = PortsOf(pod.Spec);
                break;
            default:
                throw new UsageException($"cannot expose a {type.Singular}: one of deployment, rc, rs, pod");
        }
        if (ctx.Args.Get("selector") is { Length: > 0 } custom) selector = RunOptions.ParsePairs(custom.Split(','), "--selector");
        var service = options.ToService(name, selector, labels, ports);
        var created = await api.Call(() => api.Client.CoreV1.CreateNamespacedServiceAsync(service, ns));
        await ctx.Out.WriteLineAsync($"service/{created.Metadata.Name} exposed");
        return 0;
    }

    public static async Task<int> Scale(CommandContext ctx)
    {
        var (type, name) = TypeAndName(ctx.Args, "scale", "deployment | rc | rs");
        var replicas = ctx.Args.GetInt("replicas") ?? throw new UsageException("--replicas=COUNT is required");
        if (replicas < 0) throw new UsageException("--replicas must not be negative");
        var patch = ScalePatch(replicas);
        using var api = ctx.Connect();
        var ns = api.Namespace;
        await api.Call(() => type.Plural switch
        {
            "deployments" => api.Client.AppsV1.PatchNamespacedDeploymentScaleAsync(patch, name, ns),
            "replicasets" => api.Client.AppsV1.PatchNamespacedReplicaSetScaleAsync(patch, name, ns),
            "replicationcontrollers" => api.Client.CoreV1.PatchNamespacedReplicationControllerScaleAsync(patch, name, ns),
            _ => throw new UsageException($"cannot scale a {type.Singular}: one of deployment, rs, rc"),
        });
        await ctx.Out.WriteLineAsync($"{type.Qualified}/{name} scaled");
        return 0;
    }

    /// <summary>The merge patch kubectl scale sends to the /scale subresource.</summary>
    public static V1Patch ScalePatch(int replicas) =>
        new($"{{\"spec\":{{\"replicas\":{replicas}}}}}", V1Patch.PatchType.MergePatch);

    /// <summary>"deployment NAME" or "deployment/NAME".</summary>
    internal static (ResourceType Type, string Name) TypeAndName(ParsedArgs args, string verb, string allowed)
    {
        var p = args.Positionals;
        if (p.Count == 1 && p[0].Contains('/'))
            return (ResourceType.Resolve(p[0][..p[0].IndexOf('/')]), p[0][(p[0].IndexOf('/') + 1)..]);
        if (p.Count != 2) throw new UsageException($"{verb} needs a type ({allowed}) and a name (see 'orchctl {verb} --help')");
        return (ResourceType.Resolve(p[0]), p[1]);
    }

    private static IReadOnlyList<int> PortsOf(V1PodSpec? spec) =>
        spec?.Containers?.SelectMany(c => c.Ports ?? []).Select(p => p.ContainerPort).Distinct().ToList() ?? [];
}
