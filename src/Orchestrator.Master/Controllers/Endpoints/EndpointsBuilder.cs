using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.Endpoints;

/// <summary>
/// The Endpoints object of a Service from the pods its selector matches (Kubernetes' endpoints controller):
/// each pod with an IP becomes an address — ready ones in <c>addresses</c>, others in <c>notReadyAddresses</c> —
/// under the Service's ports with targetPort resolved against the pod (a named targetPort through the pod's
/// container ports); a pod whose subdomain is the Service's name carries its hostname. Pods that resolve to the same ports share one subset. Output is sorted so equal inputs give
/// equal objects. Pure.
/// </summary>
internal static class EndpointsBuilder
{
    public static V1Endpoints Build(V1Service service, IEnumerable<V1Pod> podsInNamespace)
    {
        var selector = LabelSelector.FromMap(service.Spec?.Selector);
        var publishNotReady = service.Spec?.PublishNotReadyAddresses == true;
        var subsets = new Dictionary<string, (List<Corev1EndpointPort> Ports, List<V1EndpointAddress> Ready, List<V1EndpointAddress> NotReady)>();

        foreach (var pod in podsInNamespace)
        {
            if (!selector.Matches(pod.Metadata.Labels) || string.IsNullOrEmpty(pod.Status?.PodIP)) continue;
            if (PodFacts.IsTerminal(pod) || (pod.Metadata.DeletionTimestamp is not null && !publishNotReady)) continue;

            var ports = new List<Corev1EndpointPort>();
            foreach (var servicePort in service.Spec?.Ports ?? [])
            {
                if (ResolveTargetPort(servicePort, pod) is not { } number) continue;
                ports.Add(new Corev1EndpointPort
                {
                    Name = servicePort.Name,
                    Port = number,
                    Protocol = servicePort.Protocol ?? "TCP",
                    AppProtocol = servicePort.AppProtocol,
                });
            }
            if (ports.Count == 0 && (service.Spec?.Ports?.Count ?? 0) > 0) continue;
            ports = ports.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Port).ToList();

            var key = string.Join(",", ports.Select(p => $"{p.Name}/{p.Port}/{p.Protocol}"));
            if (!subsets.TryGetValue(key, out var subset)) subsets[key] = subset = (ports, [], []);
            var address = new V1EndpointAddress
            {
                Ip = pod.Status!.PodIP,
                // the pod's DNS name <hostname>.<service> exists only under the Service its subdomain names
                Hostname = !string.IsNullOrEmpty(pod.Spec?.Hostname) && pod.Spec.Subdomain == service.Metadata.Name
                           && pod.Metadata.NamespaceProperty == service.Metadata.NamespaceProperty ? pod.Spec.Hostname : null,
                NodeName = string.IsNullOrEmpty(pod.Spec?.NodeName) ? null : pod.Spec.NodeName,
                TargetRef = new V1ObjectReference
                {
                    Kind = "Pod",
                    NamespaceProperty = pod.Metadata.NamespaceProperty,
                    Name = pod.Metadata.Name,
                    Uid = pod.Metadata.Uid,
                },
            };
            if (publishNotReady || PodFacts.IsReady(pod)) subset.Ready.Add(address);
            else subset.NotReady.Add(address);
        }

        return new V1Endpoints
        {
            ApiVersion = "v1",
            Kind = "Endpoints",
            Metadata = new V1ObjectMeta
            {
                Name = service.Metadata.Name,
                NamespaceProperty = service.Metadata.NamespaceProperty,
                Labels = service.Metadata.Labels is { Count: > 0 } labels ? new Dictionary<string, string>(labels) : null,
            },
            Subsets = subsets.Count == 0
                ? null
                : subsets.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new V1EndpointSubset
                {
                    Ports = s.Value.Ports.Count == 0 ? null : s.Value.Ports,
                    Addresses = s.Value.Ready.Count == 0 ? null : Sorted(s.Value.Ready),
                    NotReadyAddresses = s.Value.NotReady.Count == 0 ? null : Sorted(s.Value.NotReady),
                }).ToList(),
        };
    }

    /// <summary>The container port a service port reaches on this pod: a number as is, a name through the pod's
    /// container ports (same protocol), nothing when the name is not declared. An unset targetPort means the port.</summary>
    public static int? ResolveTargetPort(V1ServicePort servicePort, V1Pod pod)
    {
        var target = servicePort.TargetPort?.Value;
        if (string.IsNullOrEmpty(target)) return servicePort.Port;
        if (int.TryParse(target, out var number)) return number;
        var protocol = servicePort.Protocol ?? "TCP";
        return pod.Spec?.Containers?
            .SelectMany(c => c.Ports ?? [])
            .FirstOrDefault(p => p.Name == target && (p.Protocol ?? "TCP") == protocol)?.ContainerPort;
    }

    private static List<V1EndpointAddress> Sorted(List<V1EndpointAddress> addresses) =>
        addresses.OrderBy(a => a.Ip, StringComparer.Ordinal).ThenBy(a => a.TargetRef?.Name, StringComparer.Ordinal).ToList();

    /// <summary>True when the stored Endpoints already say what <paramref name="wanted"/> says.</summary>
    public static bool SameContent(V1Endpoints stored, V1Endpoints wanted) =>
        KubeObjects.Serialize(stored.Subsets ?? []) == KubeObjects.Serialize(wanted.Subsets ?? []) &&
        KubeObjects.Serialize(stored.Metadata.Labels ?? new Dictionary<string, string>()) ==
        KubeObjects.Serialize(wanted.Metadata.Labels ?? new Dictionary<string, string>());
}
