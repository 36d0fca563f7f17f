using System.Text;
using k8s.Models;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>Service, ConfigMap, Secret and envelope details, hand-encoded with Kubernetes' field numbers.</summary>
public class CoreObjectDecodingTests
{
    private static V1Service DecodeService(Action<ProtoWriter> spec) => Fixtures.Decode<V1Service>(
        ProtoWriter.Envelope("v1", "Service", new ProtoWriter().Message(1, m => m.String(1, "svc")).Message(2, spec)));

    [Fact]
    public void Service_spec_fields_are_decoded()
    {
        var spec = DecodeService(s => s
            .Message(1, p => p.String(1, "web").String(2, "TCP").Varint(3, 8000).Str(4, "http").String(6, "http")) // ports
            .Entry(2, "app", "web") // selector
            .String(3, "10.96.0.10") // clusterIP
            .String(4, "ClusterIP") // type
            .String(5, "127.0.0.50") // externalIPs
            .String(7, "ClientIP") // sessionAffinity
            .String(11, "Local") // externalTrafficPolicy
            .Message(14, c => c.Message(1, ip => ip.Varint(1, 60))) // sessionAffinityConfig.clientIP.timeoutSeconds
            .String(17, "SingleStack") // ipFamilyPolicy
            .String(18, "10.96.0.10") // clusterIPs
            .String(19, "IPv4") // ipFamilies
            .String(22, "Cluster")).Spec; // internalTrafficPolicy

        var port = Assert.Single(spec.Ports);
        Assert.Equal(("web", "TCP", 8000, "http", "http"), (port.Name, port.Protocol, port.Port, port.TargetPort?.Value, port.AppProtocol));
        Assert.Equal("web", spec.Selector["app"]);
        Assert.Equal("10.96.0.10", spec.ClusterIP);
        Assert.Equal(["10.96.0.10"], spec.ClusterIPs);
        Assert.Equal("ClusterIP", spec.Type);
        Assert.Equal(["127.0.0.50"], spec.ExternalIPs);
        Assert.Equal("ClientIP", spec.SessionAffinity);
        Assert.Equal(60, spec.SessionAffinityConfig.ClientIP.TimeoutSeconds);
        Assert.Equal("Local", spec.ExternalTrafficPolicy);
        Assert.Equal("SingleStack", spec.IpFamilyPolicy);
        Assert.Equal(["IPv4"], spec.IpFamilies);
        Assert.Equal("Cluster", spec.InternalTrafficPolicy);
    }

    [Fact]
    public void A_zero_target_port_means_unset_so_the_store_defaults_it_to_the_port()
    {
        var spec = DecodeService(s => s.Message(1, p => p.String(1, "").String(2, "TCP").Varint(3, 80).Int(4, 0).Varint(5, 0))).Spec;

        var port = Assert.Single(spec.Ports);
        Assert.Null(port.TargetPort);
        Assert.Null(port.NodePort);
        Assert.Null(port.Name);
    }

    [Fact]
    public void ConfigMap_binary_data_and_immutability_are_decoded()
    {
        var cm = Fixtures.Decode<V1ConfigMap>(ProtoWriter.Envelope("v1", "ConfigMap", new ProtoWriter()
            .Message(1, m => m.String(1, "c"))
            .Message(3, e => e.String(1, "blob").Bytes(2, [0, 1, 255])) // binaryData
            .Bool(4, true))); // immutable

        Assert.Equal([0, 1, 255], cm.BinaryData["blob"]);
        Assert.True(cm.Immutable);
        Assert.Null(cm.Data);
    }

    [Fact]
    public void Secret_type_and_string_data_are_decoded()
    {
        var secret = Fixtures.Decode<V1Secret>(ProtoWriter.Envelope("v1", "Secret", new ProtoWriter()
            .Message(1, m => m.String(1, "tls"))
            .Message(2, e => e.String(1, "tls.key").Bytes(2, "k"u8.ToArray())) // data
            .String(3, "kubernetes.io/tls") // type
            .Entry(4, "tls.crt", "c"))); // stringData

        Assert.Equal("kubernetes.io/tls", secret.Type);
        Assert.Equal("k", Encoding.UTF8.GetString(secret.Data["tls.key"]));
        Assert.Equal(new Dictionary<string, string> { ["tls.crt"] = "c" }, secret.StringData);
    }

    [Fact]
    public void ServiceAccount_secrets_pull_secrets_and_automount_are_decoded()
    {
        var sa = Fixtures.Decode<V1ServiceAccount>(ProtoWriter.Envelope("v1", "ServiceAccount", new ProtoWriter()
            .Message(1, m => m.String(1, "builder"))
            .Message(2, r => r.String(1, "Secret").String(2, "ci").String(3, "builder-token").String(5, "v1")) // secrets
            .Message(3, r => r.String(1, "registry")) // imagePullSecrets
            .Bool(4, false))); // automountServiceAccountToken: present though false

        var secret = Assert.Single(sa.Secrets);
        Assert.Equal(("Secret", "ci", "builder-token", "v1"), (secret.Kind, secret.NamespaceProperty, secret.Name, secret.ApiVersion));
        Assert.Equal("registry", Assert.Single(sa.ImagePullSecrets).Name);
        Assert.False(sa.AutomountServiceAccountToken);
    }

    [Fact]
    public void A_timestamp_at_the_epoch_is_a_time_not_an_absent_one()
    {
        var ns = Fixtures.Decode<V1Namespace>(ProtoWriter.Envelope("v1", "Namespace", new ProtoWriter()
            .Message(1, m => m.String(1, "old").Message(8, t => t.Varint(1, 0).Varint(2, 0)))));

        Assert.Equal(DateTime.UnixEpoch, ns.Metadata.CreationTimestamp);
    }

    [Fact]
    public void An_envelope_without_type_meta_takes_the_endpoints_kind()
    {
        var unknown = new ProtoWriter().Bytes(2, new ProtoWriter().Message(1, m => m.String(1, "bare")).ToArray());

        var ns = Fixtures.Decode<V1Namespace>([.. "k8s\0"u8.ToArray(), .. unknown.ToArray()]);

        Assert.Equal(("v1", "Namespace", "bare"), (ns.ApiVersion, ns.Kind, ns.Metadata.Name));
    }
}
