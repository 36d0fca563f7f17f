using k8s.Models;
using static Orchestrator.Master.Api.Protobuf.WireValues;

namespace Orchestrator.Master.Api.Protobuf;

/// <summary>
/// Maps the pod template and everything inside it (containers, probes, volumes, tolerations) — shared by
/// Pod, ReplicationController, ReplicaSet and Deployment. Field semantics: see <see cref="WireValues"/>.
/// </summary>
internal static class PodMapping
{
    public static V1PodTemplateSpec? ToModel(Wire.PodTemplateSpec? t) => t is null ? null : new V1PodTemplateSpec
    {
        Metadata = MetaMapping.ToModel(t.Metadata),
        Spec = ToModel(t.Spec),
    };

    public static V1PodSpec? ToModel(Wire.PodSpec? s) => s is null ? null : new V1PodSpec
    {
        Volumes = List(s.Volumes, ToModel),
        InitContainers = List(s.InitContainers, ToModel),
        Containers = List(s.Containers, ToModel),
        RestartPolicy = OmitEmpty(s.RestartPolicy),
        TerminationGracePeriodSeconds = Present(s.HasTerminationGracePeriodSeconds, s.TerminationGracePeriodSeconds),
        ActiveDeadlineSeconds = Present(s.HasActiveDeadlineSeconds, s.ActiveDeadlineSeconds),
        DnsPolicy = OmitEmpty(s.DnsPolicy),
        NodeSelector = Map(s.NodeSelector),
        ServiceAccountName = OmitEmpty(s.ServiceAccountName),
        ServiceAccount = OmitEmpty(s.ServiceAccount),
        AutomountServiceAccountToken = Present(s.HasAutomountServiceAccountToken, s.AutomountServiceAccountToken),
        NodeName = OmitEmpty(s.NodeName),
        HostNetwork = OmitFalse(s.HostNetwork),
        HostPID = OmitFalse(s.HostPID),
        HostIPC = OmitFalse(s.HostIPC),
        ImagePullSecrets = List(s.ImagePullSecrets, r => new V1LocalObjectReference { Name = OmitEmpty(r.Name) }),
        Hostname = OmitEmpty(s.Hostname),
        Subdomain = OmitEmpty(s.Subdomain),
        SchedulerName = OmitEmpty(s.SchedulerName),
        Tolerations = List(s.Tolerations, ToModel),
        PriorityClassName = OmitEmpty(s.PriorityClassName),
        Priority = Present(s.HasPriority, s.Priority),
        EnableServiceLinks = Present(s.HasEnableServiceLinks, s.EnableServiceLinks),
    };

    private static V1Container ToModel(Wire.Container c) => new()
    {
        Name = Present(c.HasName, c.Name),
        Image = OmitEmpty(c.Image),
        Command = Strings(c.Command),
        Args = Strings(c.Args),
        WorkingDir = OmitEmpty(c.WorkingDir),
        Ports = List(c.Ports, ToModel),
        EnvFrom = List(c.EnvFrom, ToModel),
        Env = List(c.Env, ToModel),
        Resources = c.Resources is null ? null : new V1ResourceRequirements
        {
            Limits = MetaMapping.Quantities(c.Resources.Limits),
            Requests = MetaMapping.Quantities(c.Resources.Requests),
        },
        VolumeMounts = List(c.VolumeMounts, m => new V1VolumeMount
        {
            Name = Present(m.HasName, m.Name),
            ReadOnlyProperty = OmitFalse(m.ReadOnly),
            MountPath = Present(m.HasMountPath, m.MountPath),
            SubPath = OmitEmpty(m.SubPath),
        }),
        LivenessProbe = ToModel(c.LivenessProbe),
        ReadinessProbe = ToModel(c.ReadinessProbe),
        StartupProbe = ToModel(c.StartupProbe),
        TerminationMessagePath = OmitEmpty(c.TerminationMessagePath),
        TerminationMessagePolicy = OmitEmpty(c.TerminationMessagePolicy),
        ImagePullPolicy = OmitEmpty(c.ImagePullPolicy),
        Stdin = OmitFalse(c.Stdin),
        StdinOnce = OmitFalse(c.StdinOnce),
        Tty = OmitFalse(c.Tty),
    };

    private static V1ContainerPort ToModel(Wire.ContainerPort p) => new()
    {
        Name = OmitEmpty(p.Name),
        HostPort = OmitZero(p.HostPort),
        ContainerPort = p.ContainerPort_,
        Protocol = OmitEmpty(p.Protocol),
        HostIP = OmitEmpty(p.HostIP),
    };

    private static V1EnvVar ToModel(Wire.EnvVar e) => new()
    {
        Name = Present(e.HasName, e.Name),
        Value = OmitEmpty(e.Value),
        ValueFrom = e.ValueFrom is not { } from ? null : new V1EnvVarSource
        {
            FieldRef = from.FieldRef is not { } f ? null : new V1ObjectFieldSelector
            {
                ApiVersion = OmitEmpty(f.ApiVersion),
                FieldPath = Present(f.HasFieldPath, f.FieldPath),
            },
            ConfigMapKeyRef = from.ConfigMapKeyRef is not { } cm ? null : new V1ConfigMapKeySelector
            {
                Name = OmitEmpty(cm.LocalObjectReference?.Name ?? ""),
                Key = Present(cm.HasKey, cm.Key),
                Optional = Present(cm.HasOptional, cm.Optional),
            },
            SecretKeyRef = from.SecretKeyRef is not { } sk ? null : new V1SecretKeySelector
            {
                Name = OmitEmpty(sk.LocalObjectReference?.Name ?? ""),
                Key = Present(sk.HasKey, sk.Key),
                Optional = Present(sk.HasOptional, sk.Optional),
            },
        },
    };

    private static V1EnvFromSource ToModel(Wire.EnvFromSource e) => new()
    {
        Prefix = OmitEmpty(e.Prefix),
        ConfigMapRef = e.ConfigMapRef is not { } cm ? null : new V1ConfigMapEnvSource
        {
            Name = OmitEmpty(cm.LocalObjectReference?.Name ?? ""),
            Optional = Present(cm.HasOptional, cm.Optional),
        },
        SecretRef = e.SecretRef is not { } s ? null : new V1SecretEnvSource
        {
            Name = OmitEmpty(s.LocalObjectReference?.Name ?? ""),
            Optional = Present(s.HasOptional, s.Optional),
        },
    };

    private static V1Probe? ToModel(Wire.Probe? p) => p is null ? null : new V1Probe
    {
        Exec = p.Handler?.Exec is not { } exec ? null : new V1ExecAction { Command = Strings(exec.Command) },
        HttpGet = p.Handler?.HttpGet is not { } http ? null : new V1HTTPGetAction
        {
            Path = OmitEmpty(http.Path),
            Port = MetaMapping.ToModel(http.Port) ?? 0,
            Host = OmitEmpty(http.Host),
            Scheme = OmitEmpty(http.Scheme),
            HttpHeaders = List(http.HttpHeaders, h => new V1HTTPHeader { Name = h.Name, Value = h.Value }),
        },
        TcpSocket = p.Handler?.TcpSocket is not { } tcp ? null : new V1TCPSocketAction
        {
            Port = MetaMapping.ToModel(tcp.Port) ?? 0,
            Host = OmitEmpty(tcp.Host),
        },
        InitialDelaySeconds = OmitZero(p.InitialDelaySeconds),
        TimeoutSeconds = OmitZero(p.TimeoutSeconds),
        PeriodSeconds = OmitZero(p.PeriodSeconds),
        SuccessThreshold = OmitZero(p.SuccessThreshold),
        FailureThreshold = OmitZero(p.FailureThreshold),
        TerminationGracePeriodSeconds = Present(p.HasTerminationGracePeriodSeconds, p.TerminationGracePeriodSeconds),
    };

    private static V1Volume ToModel(Wire.Volume v)
    {
        var source = v.VolumeSource;
        return new V1Volume
        {
            Name = Present(v.HasName, v.Name),
            HostPath = source?.HostPath is not { } hp ? null : new V1HostPathVolumeSource
            {
                Path = Present(hp.HasPath, hp.Path),
                Type = Present(hp.HasType, hp.Type),
            },
            EmptyDir = source?.EmptyDir is not { } ed ? null : new V1EmptyDirVolumeSource
            {
                Medium = OmitEmpty(ed.Medium),
                SizeLimit = ed.SizeLimit is null ? null : MetaMapping.ToModel(ed.SizeLimit),
            },
            Secret = source?.Secret is not { } sec ? null : new V1SecretVolumeSource
            {
                SecretName = OmitEmpty(sec.SecretName),
                Items = List(sec.Items, ToModel),
                DefaultMode = Present(sec.HasDefaultMode, sec.DefaultMode),
                Optional = Present(sec.HasOptional, sec.Optional),
            },
            ConfigMap = source?.ConfigMap is not { } cm ? null : new V1ConfigMapVolumeSource
            {
                Name = OmitEmpty(cm.LocalObjectReference?.Name ?? ""),
                Items = List(cm.Items, ToModel),
                DefaultMode = Present(cm.HasDefaultMode, cm.DefaultMode),
                Optional = Present(cm.HasOptional, cm.Optional),
            },
        };
    }

    private static V1KeyToPath ToModel(Wire.KeyToPath k) => new()
    {
        Key = k.Key,
        Path = k.Path,
        Mode = Present(k.HasMode, k.Mode),
    };

    private static V1Toleration ToModel(Wire.Toleration t) => new()
    {
        Key = OmitEmpty(t.Key),
        OperatorProperty = OmitEmpty(t.Operator),
        Value = OmitEmpty(t.Value),
        Effect = OmitEmpty(t.Effect),
        TolerationSeconds = Present(t.HasTolerationSeconds, t.TolerationSeconds),
    };
}
