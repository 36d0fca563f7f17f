namespace Orchestrator.Cli.Parsing;

/// <summary>Every orchctl command with its flags: the single source for parsing, --help and bash completion.</summary>
internal static class CommandTable
{
    private static readonly FlagSpec Output = new("output", 'o', "string", "Output format: one of wide, yaml, json, name.");
    private static readonly FlagSpec Selector = new("selector", 'l', "string", "Selector (label query) to filter on, e.g. -l app=web,tier!=db.");
    private static readonly FlagSpec Filename = new("filename", 'f', "string", "File, directory or '-' (stdin) with the manifests (YAML, multi-document, or JSON).", Repeatable: true);

    public static readonly IReadOnlyList<CommandSpec> All =
    [
        new("run", "orchctl run NAME --image=image [--replicas=N] [--port=port] [--hostport=port] [--labels=k=v,...] [--env=K=V ...] [-- COMMAND [args...]]",
            "Create a Deployment named NAME running the image, labelled run=NAME (what kubectl run did before 1.18).",
            [
                new("image", null, "string", "The image for the container to run."),
                new("replicas", 'r', "int", "Number of replicas to create (default 1)."),
                new("port", null, "int", "The port that this container exposes."),
                new("hostport", null, "int", "The host port mapping for the container port (needs --port)."),
                new("labels", 'l', "string", "Comma separated labels for the Deployment, its selector and its pods (default run=NAME)."),
                new("env", null, "string", "Environment variable K=V to set in the container; repeat for several.", Repeatable: true),
                new("command", null, null, "Treat the arguments after -- as the command instead of the image's arguments."),
                new("restart", null, "string", "Only Always is supported (a Deployment's pods always restart)."),
            ],
            ["orchctl run http --image=katacoda/docker-http-server:latest --replicas=1",
             "orchctl run httpexposed --image=katacoda/docker-http-server:latest --replicas=1 --port=80 --hostport=8001",
             "orchctl run sleeper --image=busybox --command -- sleep 3600"]),
        new("expose", "orchctl expose (deployment | rc | rs | pod) NAME [--port=port] [--target-port=port] [--type=type] [--external-ip=ip] [--node-port=port] [--name=name] [--protocol=TCP|UDP]",
            "Expose a deployment, replication controller, replica set or pod as a new Service; its selector is the object's selector.",
            [
                new("port", null, "int", "The port that the service serves on (default: the container's port, when it has exactly one)."),
                new("target-port", null, "string", "Name or number of the container port the service directs traffic to (default: --port)."),
                new("type", null, "string", "Type of the service: ClusterIP (default), NodePort, LoadBalancer."),
                new("external-ip", null, "string", "Additional external IP address(es) (comma separated) the service accepts traffic on."),
                new("node-port", null, "int", "The NodePort (30000-32767) for --type=NodePort; allocated when not given."),
                new("name", null, "string", "The name of the new Service (default: the object's name)."),
                new("protocol", null, "string", "The network protocol: TCP (default) or UDP."),
                new("labels", null, "string", "Labels for the Service (default: the object's labels)."),
                new("selector", null, "string", "The selector to use instead of the object's (k=v,...)."),
            ],
            ["orchctl expose deployment http --external-ip=\"127.0.0.50\" --port=8000 --target-port=80",
             "orchctl expose deployment webapp1 --type=NodePort --port=80 --node-port=30080"]),
        new("scale", "orchctl scale (deployment | rc | rs) NAME --replicas=N",
            "Set a new size for a deployment, replica set or replication controller (PATCH of its /scale subresource).",
            [new("replicas", null, "int", "The new desired number of replicas. Required.")],
            ["orchctl scale deployment webapp1 --replicas=3"]),
        new("create", "orchctl create -f FILENAME", "Create the objects in the files (multi-document YAML or JSON; a directory; '-' for stdin).",
            [Filename], ["orchctl create -f deploy/examples/deployment.yaml", "cat service.yaml | orchctl create -f -"]),
        new("apply", "orchctl apply -f FILENAME", "Create the objects in the files, or replace those that exist with the files' version.",
            [Filename], ["orchctl apply -f deploy/examples/"]),
        new("get", "orchctl get TYPE[,TYPE...] [NAME...] [-o wide|yaml|json|name] [-l selector] [-A] [-w]",
            "Display one or many resources as the server's tables (kubectl's columns). Types: nodes (no), pods (po), deployments (deploy), replicasets (rs), replicationcontrollers (rc), services (svc), endpoints (ep), events (ev), namespaces (ns).",
            [
                Output, Selector,
                new("all-namespaces", 'A', null, "List the objects of all namespaces."),
                new("watch", 'w', null, "After listing, watch for changes."),
                new("no-headers", null, null, "Do not print the header line."),
            ],
            ["orchctl get nodes", "orchctl get pods -o wide", "orchctl get deployment webapp1 -o yaml", "orchctl get pods -l app=webapp1 -w"]),
        new("describe", "orchctl describe TYPE [NAME...] [-l selector]",
            "Show details of objects: replicas, selector, images, ports, endpoints, conditions and their events.",
            [Selector], ["orchctl describe deployment webapp1", "orchctl describe svc webapp1-svc"]),
        new("delete", "orchctl delete (-f FILENAME | TYPE[/NAME] [NAME...] | TYPE -l selector)",
            "Delete objects by file, by type and name, or by type and label selector (their dependents are deleted in the background).",
            [Filename, Selector, new("ignore-not-found", null, null, "Treat objects that do not exist as deleted.")],
            ["orchctl delete deployment webapp1", "orchctl delete -f deploy/examples/service.yaml", "orchctl delete pods -l run=http"]),
        new("logs", "orchctl logs POD [-c container] [-f] [--tail=N]", "Print the logs of a container in a pod.",
            [
                new("container", 'c', "string", "The container (default: the pod's only or first container)."),
                new("follow", 'f', null, "Keep streaming the logs."),
                new("tail", null, "int", "Lines of the end of the log to show (default: all)."),
            ],
            ["orchctl logs http-5d8f7c9b6-x2x4z", "orchctl logs -f http-5d8f7c9b6-x2x4z"]),
        new("up", "orchctl up [--registry]", "Bring up the single-node cluster (deploy/up.sh) with live progress and a summary.",
            [new("registry", null, null, "Also run the cluster's image registry on 127.0.0.1:5000 (orchctl image push).")]),
        new("down", "orchctl down [--purge]", "Stop the cluster and remove its containers (deploy/down.sh).",
            [new("purge", null, null, "Also forget the cluster's objects and its kubeconfig context.")]),
        new("lab", "orchctl lab (up [--nodes N] [--masters M] [--registry] | down [--purge] | status | add-node [NAME] | remove-node NAME | kill-node NAME | pause-node NAME | resume-node NAME | restart-master [NAME] | kill-master NAME | pause-master NAME | resume-master NAME)",
            "The multi-node lab on this machine (deploy/lab/): a master and N nodes on 127.0.0.11, .12, …, and its failure drills.",
            [
                new("nodes", null, "int", "lab up: how many nodes (default 3)."),
                new("masters", null, "int", "lab up: how many masters (default 1; several share a local PostgreSQL)."),
                new("registry", null, null, "lab up: also run the cluster's image registry on 127.0.0.1:5000."),
                new("purge", null, null, "lab down: also forget the lab's objects, nodes and kubeconfig context."),
            ],
            ["orchctl lab up --nodes 3", "orchctl lab kill-node lab-node-1", "orchctl lab pause-node lab-node-2", "orchctl lab resume-node lab-node-2",
             "orchctl lab restart-master", "orchctl lab add-node", "orchctl lab down --purge"]),
        new("image", "orchctl image push IMAGE [--registry ADDRESS:PORT] | orchctl image load IMAGE",
            "push: tag a local image for the cluster's registry (deploy/up.sh --registry) and push it; prints the names pods can use. " +
            "load: make a local image available to every node without a registry (nodes on this machine share its Docker engine; nodes elsewhere are refused).",
            [new("registry", null, "string", "The registry (default $ORCH_REGISTRY or 127.0.0.1:5000).")],
            ["docker build -t myapp:v1 . && orchctl image push myapp:v1", "kubectl create deployment myapp --image=127.0.0.1:5000/myapp:v1",
             "docker build -t myapp:v2 . && orchctl image load myapp:v2"]),
        new("status", "orchctl status", "What runs, where, and whether the API answers.", []),
        new("dashboard", "orchctl dashboard [--with-token] [--no-open]",
            "Print the web dashboard's URL (https://API/ui/) and open it when a browser is available.",
            [
                new("with-token", null, null, "Print (and open) a link that signs in with the kubeconfig user's token."),
                new("no-open", null, null, "Only print the URL, even when a browser is available."),
            ],
            ["orchctl dashboard", "orchctl dashboard --with-token --no-open"]),
        new("completion", "orchctl completion bash|zsh", "Print the shell's completion script: source <(orchctl completion bash), or zsh.", [],
            ["source <(orchctl completion bash)", "source <(orchctl completion zsh)"]),
    ];

    public static CommandSpec? Find(string name) => All.FirstOrDefault(c => c.Name == name);

    public static string Overview()
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("orchctl controls the Orchestrator cluster: the seed's kubectl command lines, through the Kubernetes API.");
        text.AppendLine();
        text.AppendLine("Commands:");
        foreach (var c in All) text.AppendLine($"  {c.Name,-11} {c.Summary}");
        text.AppendLine();
        text.AppendLine("Options for every API command:");
        foreach (var f in CommandSpec.GlobalFlags) text.AppendLine(FlagLine(f));
        text.AppendLine();
        text.AppendLine("Usage:");
        text.AppendLine("  orchctl [command] [flags]");
        text.AppendLine();
        text.Append("Use \"orchctl <command> --help\" for more information about a given command.");
        return text.ToString();
    }

    public static string Help(CommandSpec spec)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine(spec.Summary);
        if (spec.Examples is { Count: > 0 })
        {
            text.AppendLine();
            text.AppendLine("Examples:");
            foreach (var e in spec.Examples) text.AppendLine("  " + e);
        }
        if (spec.Flags.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Options:");
            foreach (var f in spec.Flags) text.AppendLine(FlagLine(f));
        }
        text.AppendLine();
        text.AppendLine("Usage:");
        text.AppendLine("  " + spec.Usage);
        text.AppendLine();
        text.Append("Use \"orchctl --help\" for the options every command accepts (--context, --kubeconfig, -n).");
        return text.ToString();
    }

    private static string FlagLine(FlagSpec f)
    {
        var names = (f.Short is { } s ? $"-{s}, " : "    ") + "--" + f.Name + (f.TakesValue ? $"={(f.Value == "int" ? "0" : "''")}" : "=false");
        return $"    {names}:\n\t{f.Help}";
    }
}
