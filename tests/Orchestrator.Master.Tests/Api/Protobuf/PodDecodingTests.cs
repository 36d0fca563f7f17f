using k8s.Models;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>
/// A pod using every field the decoder maps, encoded with Kubernetes' field numbers by hand (see
/// <see cref="ProtoWriter"/>): a wrong number in our .proto files loses or misplaces a field here.
/// Field names are given beside each number.
/// </summary>
public class PodDecodingTests
{
    private static V1Pod DecodeRichPod()
    {
        var metadata = new ProtoWriter()
            .String(1, "web-0") // name
            .String(3, "shop") // namespace
            .String(5, "uid-1") // uid
            .Varint(7, 2) // generation
            .Message(8, t => t.Varint(1, 1_700_000_000).Varint(2, 500)) // creationTimestamp {seconds, nanos}
            .Entry(11, "app", "web") // labels
            .Entry(12, "note", "hi") // annotations
            .Message(13, o => o // ownerReferences
                .String(1, "ReplicaSet").String(3, "web-rs").String(4, "rs-uid").String(5, "apps/v1")
                .Bool(6, true).Bool(7, true))
            .String(14, "example.com/keep"); // finalizers

        var app = new ProtoWriter()
            .String(1, "app").String(2, "nginx:1.27")
            .String(3, "nginx") // command
            .String(4, "-g").String(4, "daemon off;") // args
            .String(5, "/srv") // workingDir
            .Message(6, p => p.String(1, "http").Varint(2, 8001).Varint(3, 80).String(4, "TCP")) // ports
            .Message(7, e => e.String(1, "MODE").String(2, "prod")) // env
            .Message(7, e => e.String(1, "POD_NAME") // env valueFrom.fieldRef
                .Message(3, from => from.Message(1, f => f.String(1, "v1").String(2, "metadata.name"))))
            .Message(7, e => e.String(1, "KEY") // env valueFrom.secretKeyRef
                .Message(3, from => from.Message(4, s => s.Message(1, r => r.String(1, "creds")).String(2, "token"))))
            .Message(8, r => r // resources {limits, requests}
                .QuantityEntry(1, "cpu", "500m").QuantityEntry(1, "memory", "128Mi")
                .QuantityEntry(2, "cpu", "100m"))
            .Message(9, m => m.String(1, "cache").Bool(2, true).String(3, "/cache")) // volumeMounts
            .Message(10, p => p // livenessProbe: handler.httpGet, initialDelay, period, failureThreshold
                .Message(1, h => h.Message(2, g => g.String(1, "/healthz").Int(2, 80).String(4, "HTTP")))
                .Varint(2, 5).Varint(4, 10).Varint(6, 3))
            .Message(11, p => p // readinessProbe: handler.tcpSocket (named port), timeoutSeconds
                .Message(1, h => h.Message(3, t => t.Str(1, "http")))
                .Varint(3, 2))
            .Message(22, p => p // startupProbe: handler.exec, successThreshold
                .Message(1, h => h.Message(1, x => x.String(1, "cat").String(1, "/tmp/ready")))
                .Varint(5, 1))
            .String(13, "/dev/termination-log") // terminationMessagePath
            .String(14, "IfNotPresent") // imagePullPolicy
            .String(20, "File"); // terminationMessagePolicy

        var spec = new ProtoWriter()
            .Message(1, v => v.String(1, "cache") // volumes: emptyDir {medium, sizeLimit}
                .Message(2, s => s.Message(2, e => e.String(1, "Memory").Message(2, q => q.String(1, "64Mi")))))
            .Message(1, v => v.String(1, "logs") // hostPath {path, type}
                .Message(2, s => s.Message(1, h => h.String(1, "/var/log").String(2, "Directory"))))
            .Message(1, v => v.String(1, "cfg") // configMap {name, items, defaultMode}
                .Message(2, s => s.Message(19, c => c
                    .Message(1, r => r.String(1, "settings"))
                    .Message(2, i => i.String(1, "a").String(2, "a.txt").Varint(3, 256))
                    .Varint(3, 420))))
            .Message(1, v => v.String(1, "sec") // secret {secretName, optional}
                .Message(2, s => s.Message(6, c => c.String(1, "creds").Bool(4, true))))
            .Message(20, c => c.String(1, "init").String(2, "busybox").String(3, "true")) // initContainers
            .Message(2, app) // containers
            .String(3, "Always") // restartPolicy
            .Varint(4, 0) // terminationGracePeriodSeconds (a pointer: 0 is a value)
            .String(6, "ClusterFirst") // dnsPolicy
            .Entry(7, "disk", "ssd") // nodeSelector
            .String(8, "builder") // serviceAccountName
            .String(10, "node-1") // nodeName
            .Bool(11, true) // hostNetwork
            .String(19, "default-scheduler") // schedulerName
            .Message(22, t => t.String(1, "dedicated").String(2, "Equal").String(3, "web") // tolerations
                .String(4, "NoExecute").Varint(5, 30));

        var pod = new ProtoWriter().Message(1, metadata).Message(2, spec);
        return Fixtures.Decode<V1Pod>(ProtoWriter.Envelope("v1", "Pod", pod));
    }

    [Fact]
    public void Pod_gets_api_version_and_kind()
    {
        var pod = DecodeRichPod();
        Assert.Equal("v1", pod.ApiVersion);
        Assert.Equal("Pod", pod.Kind);
    }

    [Fact]
    public void Object_metadata_fields_are_decoded()
    {
        var m = DecodeRichPod().Metadata;

        Assert.Equal("web-0", m.Name);
        Assert.Equal("shop", m.NamespaceProperty);
        Assert.Equal("uid-1", m.Uid);
        Assert.Equal(2, m.Generation);
        Assert.Equal(new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc).AddTicks(5), m.CreationTimestamp); // 500 ns
        Assert.Equal(new Dictionary<string, string> { ["app"] = "web" }, m.Labels);
        Assert.Equal(new Dictionary<string, string> { ["note"] = "hi" }, m.Annotations);
        Assert.Equal(["example.com/keep"], m.Finalizers);
        var owner = Assert.Single(m.OwnerReferences);
        Assert.Equal(("apps/v1", "ReplicaSet", "web-rs", "rs-uid"), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid));
        Assert.True(owner.Controller);
        Assert.True(owner.BlockOwnerDeletion);
    }

    [Fact]
    public void Pod_spec_scalars_are_decoded_and_a_zero_grace_period_is_kept()
    {
        var spec = DecodeRichPod().Spec;

        Assert.Equal("Always", spec.RestartPolicy);
        Assert.Equal(0L, spec.TerminationGracePeriodSeconds);
        Assert.Equal("ClusterFirst", spec.DnsPolicy);
        Assert.Equal(new Dictionary<string, string> { ["disk"] = "ssd" }, spec.NodeSelector);
        Assert.Equal("builder", spec.ServiceAccountName);
        Assert.Equal("node-1", spec.NodeName);
        Assert.True(spec.HostNetwork);
        Assert.Equal("default-scheduler", spec.SchedulerName);
        var toleration = Assert.Single(spec.Tolerations);
        Assert.Equal(("dedicated", "Equal", "web", "NoExecute", 30L),
            (toleration.Key, toleration.OperatorProperty, toleration.Value, toleration.Effect, toleration.TolerationSeconds));
    }

    [Fact]
    public void Init_containers_are_kept_apart_from_containers()
    {
        var spec = DecodeRichPod().Spec;

        var init = Assert.Single(spec.InitContainers);
        Assert.Equal(("init", "busybox"), (init.Name, init.Image));
        Assert.Equal(["true"], init.Command);
        Assert.Equal("app", Assert.Single(spec.Containers).Name);
    }

    [Fact]
    public void Container_fields_are_decoded()
    {
        var c = Assert.Single(DecodeRichPod().Spec.Containers);

        Assert.Equal("nginx:1.27", c.Image);
        Assert.Equal(["nginx"], c.Command);
        Assert.Equal(["-g", "daemon off;"], c.Args);
        Assert.Equal("/srv", c.WorkingDir);
        Assert.Equal("/dev/termination-log", c.TerminationMessagePath);
        Assert.Equal("File", c.TerminationMessagePolicy);
        Assert.Equal("IfNotPresent", c.ImagePullPolicy);
        var port = Assert.Single(c.Ports);
        Assert.Equal(("http", 8001, 80, "TCP"), (port.Name, port.HostPort, port.ContainerPort, port.Protocol));
        var mount = Assert.Single(c.VolumeMounts);
        Assert.Equal(("cache", true, "/cache"), (mount.Name, mount.ReadOnlyProperty, mount.MountPath));
    }

    [Fact]
    public void Environment_values_and_references_are_decoded()
    {
        var env = Assert.Single(DecodeRichPod().Spec.Containers).Env;

        Assert.Equal(3, env.Count);
        Assert.Equal(("MODE", "prod"), (env[0].Name, env[0].Value));
        Assert.Null(env[0].ValueFrom);
        Assert.Equal("POD_NAME", env[1].Name);
        Assert.Equal("v1", env[1].ValueFrom.FieldRef.ApiVersion);
        Assert.Equal("metadata.name", env[1].ValueFrom.FieldRef.FieldPath);
        Assert.Equal(("creds", "token"), (env[2].ValueFrom.SecretKeyRef.Name, env[2].ValueFrom.SecretKeyRef.Key));
    }

    [Fact]
    public void Resource_limits_and_requests_are_quantities()
    {
        var resources = Assert.Single(DecodeRichPod().Spec.Containers).Resources;

        Assert.Equal(new ResourceQuantity("500m"), resources.Limits["cpu"]);
        Assert.Equal(new ResourceQuantity("128Mi"), resources.Limits["memory"]);
        Assert.Equal(new ResourceQuantity("100m"), Assert.Single(resources.Requests).Value);
    }

    [Fact]
    public void Probes_keep_their_handlers_and_timings()
    {
        var c = Assert.Single(DecodeRichPod().Spec.Containers);

        Assert.Equal("/healthz", c.LivenessProbe.HttpGet.Path);
        Assert.Equal("80", c.LivenessProbe.HttpGet.Port.Value);
        Assert.Equal("HTTP", c.LivenessProbe.HttpGet.Scheme);
        Assert.Equal((5, 10, 3), (c.LivenessProbe.InitialDelaySeconds, c.LivenessProbe.PeriodSeconds, c.LivenessProbe.FailureThreshold));
        Assert.Null(c.LivenessProbe.TimeoutSeconds);
        Assert.Equal("http", c.ReadinessProbe.TcpSocket.Port.Value);
        Assert.Equal(2, c.ReadinessProbe.TimeoutSeconds);
        Assert.Null(c.ReadinessProbe.HttpGet);
        Assert.Equal(["cat", "/tmp/ready"], c.StartupProbe.Exec.Command);
        Assert.Equal(1, c.StartupProbe.SuccessThreshold);
    }

    [Fact]
    public void Volumes_of_each_mapped_source_are_decoded()
    {
        var volumes = DecodeRichPod().Spec.Volumes;

        Assert.Equal(["cache", "logs", "cfg", "sec"], volumes.Select(v => v.Name));
        Assert.Equal("Memory", volumes[0].EmptyDir.Medium);
        Assert.Equal(new ResourceQuantity("64Mi"), volumes[0].EmptyDir.SizeLimit);
        Assert.Equal(("/var/log", "Directory"), (volumes[1].HostPath.Path, volumes[1].HostPath.Type));
        Assert.Equal("settings", volumes[2].ConfigMap.Name);
        Assert.Equal(420, volumes[2].ConfigMap.DefaultMode);
        var item = Assert.Single(volumes[2].ConfigMap.Items);
        Assert.Equal(("a", "a.txt", 256), (item.Key, item.Path, item.Mode));
        Assert.Equal("creds", volumes[3].Secret.SecretName);
        Assert.True(volumes[3].Secret.Optional);
        Assert.Null(volumes[3].Secret.DefaultMode);
    }
}
