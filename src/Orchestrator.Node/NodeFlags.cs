using Orchestrator.Node.Host;
using Orchestrator.Shared.Hosting;

namespace Orchestrator.Node;

/// <summary>Every flag of orchestrator-node with its default; <see cref="NodeOptions.Parse"/> checks the resolved values.
/// Environment variables: ORCHESTRATOR_NODE_&lt;FLAG&gt; (ORCH_NODE_NAME and ORCH_NODE_ADDRESS belong to deploy/up.sh).</summary>
internal static class NodeFlags
{
    public const string EnvironmentPrefix = "ORCHESTRATOR_NODE_";

    public static ProcessFlags Definition { get; } = new("orchestrator-node", EnvironmentPrefix,
        "The Orchestrator node: runs the pods the master assigns to it in Docker (kubelet), serves Services (proxy) and cluster DNS.",
        [
            new("name", "The Node's name (lower case).", Environment.MachineName.ToLowerInvariant()),
            new("address", "This machine's address: NodePorts, hostPorts and the kubelet endpoint are published on it; the master must reach it.", "127.0.0.1"),
            new("master", "The master's cluster address (its --cluster-address:--cluster-port); several masters: all of them, comma-separated (the node joins through whichever is up).", "127.0.0.1:4050"),
            new("cluster-port", "The port of this node in the cluster (0: any free port; fix it for firewalls).", "0", FlagKind.Port),
            new("cluster-cert", "A copy of the master's <data-dir>/cluster.pfx (required: the cluster's mutual TLS).", null, DefaultText: "none, required"),
            new("kubelet-port", "The kubelet endpoint's port (HTTPS with the certificate the master issues this node at registration; " +
                "it serves the master's kubelet client certificate only. 0: any free port, published in the Node's status).", "0", FlagKind.Port),
            new("ingress-http-port", "The port of the Ingress controller (class orchestrator) on --address, HTTP (0: no ingress listener).", "80", FlagKind.Port),
            new("ingress-https-port", "The Ingress controller's HTTPS port on --address (0: none).", "443", FlagKind.Port),
            new("healthz-port", "The port on 127.0.0.1 of /healthz, /status and /metrics.", "10248", FlagKind.Port),
            new("docker", "The Docker engine's endpoint.", "unix:///var/run/docker.sock"),
            new("network", "The machine's Docker network of pods (shared by every node of the cluster on this machine).", "orchestrator"),
            new("bridge", "The Linux bridge of --network (ClusterIP and cluster DNS addresses go on it); another cluster on the same machine needs its own " +
                "--network, --bridge and --pod-network.", PodNetwork.DefaultBridge, Check: v => NodeOptions.BridgeProblem(v)),
            new("pod-network", "That network's subnet: pods take addresses from its lower half, ClusterIPs are its upper half.", PodNetwork.DefaultNetwork),
            new("pod-cidr", "This node's pod range (the Node's spec.podCIDR) inside the lower half of --pod-network; disjoint for every node.", null,
                DefaultText: "the lower half of --pod-network"),
            new("resolv-conf", "Cluster DNS forwards names outside the cluster to this file's name servers.", "/etc/resolv.conf"),
            new("cluster-domain", "The cluster's DNS domain.", "cluster.local"),
            new("cluster-dns-port", "The port of this node's cluster DNS (on the first address of its pod range).", "53", FlagKind.Port),
            new("node-status-update-frequency", "Seconds between heartbeats to the master (1 to 300).", "10", FlagKind.Seconds),
            new("housekeeping-interval", "Seconds between samples of the containers' and the machine's resource usage, which kubectl top " +
                "and the autoscaler read (1 to 300; the kubelet's --housekeeping-interval).", "10", FlagKind.Seconds),
            new("runtime-request-timeout", "Seconds every Docker call may take before it fails as timed out (1 to 3600; a stop gets the " +
                "container's grace period on top; open log and exec streams are not limited).", "120", FlagKind.Seconds),
            new("serialize-image-pulls", "Pull images one at a time (true, the kubelet's default) or in parallel (false).", "true",
                Check: v => v is "true" or "false" ? null : "must be true or false"),
            new("registry-mirror", "A Docker Hub mirror (host[:port]) tried before Docker Hub for images there; empty: none.", ""),
            new("root-dir", "The node's own directory: local-path PersistentVolumes are made under <root-dir>/volumes.", "/var/lib/orchestrator/node"),
            new("api-server-proxy", "IP:port of a load balancer on this machine to the masters' API (k3s agents' 127.0.0.1:6444): TCP passed through " +
                "(TLS end to end), new connections only to masters that pass their health check, the next one when a connect fails. Empty: none.", ""),
            new("api-servers", "The masters' API addresses (host:port, comma-separated) for --api-server-proxy; the node also learns them from the " +
                "default/kubernetes EndpointSlices. Empty: learned only.", ""),
            new("log-format", "How log lines are written: text (one line each) or json (one JSON object each).", "text",
                Check: v => v is "text" or "json" ? null : "must be text or json"),
        ]);
}
