using k8s.Models;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Objects;

/// <summary>
/// What `orchctl run` builds: the Deployment kubectl run created before 1.18 — labels and selector run=NAME
/// (or --labels), one container named NAME with the image, containerPort/hostPort, env and command/args.
/// </summary>
internal sealed record RunOptions(string Name, string Image, int Replicas, int? Port, int? HostPort,
    IReadOnlyDictionary<string, string> Labels, IReadOnlyList<KeyValuePair<string, string>> Env,
    IReadOnlyList<string> Arguments, bool Command)
{
    public static RunOptions From(ParsedArgs args)
    {
        if (args.Positionals.Count != 1) throw new UsageException("NAME is required for run (usage: orchctl run NAME --image=image [--replicas=N] [--port=P] [--hostport=H] [-- command args])");
        var name = args.Positionals[0];
        var image = args.Get("image");
        if (string.IsNullOrWhiteSpace(image)) throw new UsageException("--image is required");
        var labels = args.Get("labels") is { Length: > 0 } text ? ParsePairs(text.Split(','), "--labels") : new Dictionary<string, string> { ["run"] = name };
        var env = args.GetAll("env").Select(e => Pair(e, "--env")).ToList();
        var replicas = args.GetInt("replicas") ?? 1;
        if (replicas < 0) throw new UsageException("--replicas must not be negative");
        var hostPort = args.GetInt("hostport");
        var port = args.GetInt("port");
        if (hostPort is not null && port is null) throw new UsageException("--hostport requires --port");
        return new RunOptions(name, image, replicas, port, hostPort, labels, env, args.AfterDashes, args.GetBool("command"));
    }

    public V1Deployment ToDeployment()
    {
        var container = new V1Container
        {
            Name = Name,
            Image = Image,
            Ports = Port is null ? null : [new V1ContainerPort { ContainerPort = Port.Value, HostPort = HostPort }],
            Env = Env.Count == 0 ? null : Env.Select(e => new V1EnvVar { Name = e.Key, Value = e.Value }).ToList(),
        };
        if (Arguments.Count > 0)
        {
            if (Command) container.Command = Arguments.ToList();
            else container.Args = Arguments.ToList();
        }
        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta { Name = Name, Labels = new Dictionary<string, string>(Labels) },
            Spec = new V1DeploymentSpec
            {
                Replicas = Replicas,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string>(Labels) },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(Labels) },
                    Spec = new V1PodSpec { Containers = [container] },
                },
            },
        };
    }

    internal static Dictionary<string, string> ParsePairs(IEnumerable<string> items, string flag) =>
        items.Where(i => i.Length > 0).Select(i => Pair(i, flag)).ToDictionary(p => p.Key, p => p.Value);

    private static KeyValuePair<string, string> Pair(string text, string flag)
    {
        var eq = text.IndexOf('=');
        if (eq <= 0) throw new UsageException($"invalid {flag} value \"{text}\": expected KEY=VALUE");
        return new(text[..eq], text[(eq + 1)..]);
    }
}
