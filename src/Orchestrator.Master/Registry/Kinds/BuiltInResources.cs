using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Authentication;
using Orchestrator.Master.Registry.Kinds.Authorization;
using Orchestrator.Master.Registry.Kinds.Autoscaling;
using Orchestrator.Master.Registry.Kinds.Batch;
using Orchestrator.Master.Registry.Kinds.Certificates;
using Orchestrator.Master.Registry.Kinds.Coordination;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Kinds.Discovery;
using Orchestrator.Master.Registry.Kinds.Events;
using Orchestrator.Master.Registry.Kinds.FlowControl;
using Orchestrator.Master.Registry.Kinds.Policy;
using Orchestrator.Master.Registry.Kinds.Scheduling;
using Orchestrator.Master.Registry.Kinds.Rbac;
using Orchestrator.Master.Registry.Kinds.AdmissionRegistration;
using Orchestrator.Master.Registry.Kinds.ApiRegistration;
using Orchestrator.Master.Registry.Kinds.Networking;
using Orchestrator.Master.Registry.Kinds.Node;
using Orchestrator.Master.Registry.Kinds.Storage;

namespace Orchestrator.Master.Registry.Kinds;

/// <summary>Every built-in kind the API server serves, one description each (a folder per API group). Adding a kind
/// is adding its description here — see docs/architecture.md, "How to add a kind".</summary>
internal static class BuiltInResources
{
    public static IReadOnlyList<ResourceDescription> All =>
    [
        .. CoreResources.All,
        .. AppsResources.All,
        .. EventsResources.All,
        .. DiscoveryResources.All,
        .. CoordinationResources.All,
        .. QuotaResources.All,
        .. BatchResources.All,
        .. AutoscalingResources.All,
        .. PolicyResources.All,
        .. SchedulingResources.All,
        .. RbacResources.All,
        .. AuthenticationResources.All,
        .. AuthorizationResources.All,
        .. CertificatesResources.All,
        .. PersistentVolumeResources.All,
        .. StorageResources.All,
        .. NetworkingResources.All,
        .. NodeResources.All,
        .. AdmissionRegistrationResources.All,
        .. ApiRegistrationResources.All,
        .. FlowControlResources.All,
        .. Metrics.MetricsResources.All,
    ];
}
