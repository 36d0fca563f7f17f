using k8s.Models;
using static Orchestrator.Master.Api.Protobuf.WireValues;

namespace Orchestrator.Master.Api.Protobuf;

/// <summary>Maps apps/v1 wire objects (Deployment, ReplicaSet) to the model. Status is never mapped.</summary>
internal static class AppsMapping
{
    public static V1Deployment ToModel(Wire.Deployment d) => new()
    {
        Metadata = MetaMapping.ToModel(d.Metadata),
        Spec = d.Spec is not { } s ? null : new V1DeploymentSpec
        {
            Replicas = Present(s.HasReplicas, s.Replicas),
            Selector = MetaMapping.ToModel(s.Selector),
            Template = PodMapping.ToModel(s.Template),
            Strategy = s.Strategy is not { } st ? null : new V1DeploymentStrategy
            {
                Type = OmitEmpty(st.Type),
                RollingUpdate = st.RollingUpdate is not { } ru ? null : new V1RollingUpdateDeployment
                {
                    MaxUnavailable = MetaMapping.ToModel(ru.MaxUnavailable),
                    MaxSurge = MetaMapping.ToModel(ru.MaxSurge),
                },
            },
            MinReadySeconds = OmitZero(s.MinReadySeconds),
            RevisionHistoryLimit = Present(s.HasRevisionHistoryLimit, s.RevisionHistoryLimit),
            Paused = OmitFalse(s.Paused),
            ProgressDeadlineSeconds = Present(s.HasProgressDeadlineSeconds, s.ProgressDeadlineSeconds),
        },
    };

    public static V1ReplicaSet ToModel(Wire.ReplicaSet rs) => new()
    {
        Metadata = MetaMapping.ToModel(rs.Metadata),
        Spec = rs.Spec is not { } s ? null : new V1ReplicaSetSpec
        {
            Replicas = Present(s.HasReplicas, s.Replicas),
            MinReadySeconds = OmitZero(s.MinReadySeconds),
            Selector = MetaMapping.ToModel(s.Selector),
            Template = PodMapping.ToModel(s.Template),
        },
    };
}
