using k8s.Models;
using static Orchestrator.Master.Api.Protobuf.WireValues;

namespace Orchestrator.Master.Api.Protobuf;

/// <summary>
/// Maps core/v1 wire objects (Namespace, ConfigMap, Secret, Service, Pod, ReplicationController) to the
/// model. Status is never mapped: the API server ignores it on create.
/// </summary>
internal static class CoreMapping
{
    public static V1Namespace ToModel(Wire.Namespace n) => new()
    {
        Metadata = MetaMapping.ToModel(n.Metadata),
        Spec = n.Spec is null ? null : new V1NamespaceSpec { Finalizers = Strings(n.Spec.Finalizers) },
    };

    public static V1ConfigMap ToModel(Wire.ConfigMap c) => new()
    {
        Metadata = MetaMapping.ToModel(c.Metadata),
        Data = Map(c.Data),
        BinaryData = Map(c.BinaryData),
        Immutable = Present(c.HasImmutable, c.Immutable),
    };

    public static V1Secret ToModel(Wire.Secret s) => new()
    {
        Metadata = MetaMapping.ToModel(s.Metadata),
        Data = Map(s.Data),
        StringData = Map(s.StringData),
        Type = OmitEmpty(s.Type),
        Immutable = Present(s.HasImmutable, s.Immutable),
    };

    public static V1Service ToModel(Wire.Service s) => new()
    {
        Metadata = MetaMapping.ToModel(s.Metadata),
        Spec = ToModel(s.Spec),
    };

    private static V1ServiceSpec? ToModel(Wire.ServiceSpec? s) => s is null ? null : new V1ServiceSpec
    {
        Ports = List(s.Ports, ToModel),
        Selector = Map(s.Selector),
        ClusterIP = OmitEmpty(s.ClusterIP),
        ClusterIPs = Strings(s.ClusterIPs),
        Type = OmitEmpty(s.Type),
        ExternalIPs = Strings(s.ExternalIPs),
        SessionAffinity = OmitEmpty(s.SessionAffinity),
        LoadBalancerIP = OmitEmpty(s.LoadBalancerIP),
        LoadBalancerSourceRanges = Strings(s.LoadBalancerSourceRanges),
        ExternalName = OmitEmpty(s.ExternalName),
        ExternalTrafficPolicy = OmitEmpty(s.ExternalTrafficPolicy),
        HealthCheckNodePort = OmitZero(s.HealthCheckNodePort),
        PublishNotReadyAddresses = OmitFalse(s.PublishNotReadyAddresses),
        SessionAffinityConfig = s.SessionAffinityConfig is null ? null : new V1SessionAffinityConfig
        {
            ClientIP = s.SessionAffinityConfig.ClientIP is not { } c ? null : new V1ClientIPConfig
            {
                TimeoutSeconds = Present(c.HasTimeoutSeconds, c.TimeoutSeconds),
            },
        },
        IpFamilies = Strings(s.IpFamilies),
        IpFamilyPolicy = Present(s.HasIpFamilyPolicy, s.IpFamilyPolicy),
        AllocateLoadBalancerNodePorts = Present(s.HasAllocateLoadBalancerNodePorts, s.AllocateLoadBalancerNodePorts),
        LoadBalancerClass = Present(s.HasLoadBalancerClass, s.LoadBalancerClass),
        InternalTrafficPolicy = Present(s.HasInternalTrafficPolicy, s.InternalTrafficPolicy),
    };

    private static V1ServicePort ToModel(Wire.ServicePort p) => new()
    {
        Name = OmitEmpty(p.Name),
        Protocol = OmitEmpty(p.Protocol),
        AppProtocol = Present(p.HasAppProtocol, p.AppProtocol),
        Port = p.Port,
        TargetPort = MetaMapping.ToModelOmitZero(p.TargetPort),
        NodePort = OmitZero(p.NodePort),
    };

    public static V1Pod ToModel(Wire.Pod p) => new()
    {
        Metadata = MetaMapping.ToModel(p.Metadata),
        Spec = PodMapping.ToModel(p.Spec),
    };

    public static V1ReplicationController ToModel(Wire.ReplicationController rc) => new()
    {
        Metadata = MetaMapping.ToModel(rc.Metadata),
        Spec = rc.Spec is not { } s ? null : new V1ReplicationControllerSpec
        {
            Replicas = Present(s.HasReplicas, s.Replicas),
            MinReadySeconds = OmitZero(s.MinReadySeconds),
            Selector = Map(s.Selector),
            Template = PodMapping.ToModel(s.Template),
        },
    };
}
