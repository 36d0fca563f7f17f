using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>
/// core/v1 Service: Kubernetes' defaults (type ClusterIP, sessionAffinity None, TCP, targetPort = port,
/// single-stack IPv4, traffic policies), port validation, and the API server's allocations: a ClusterIP from
/// the service range and, for NodePort/LoadBalancer, nodePorts from 30000–32767. Allocations already made are
/// kept when an update omits them, and a requested address or port must be free. Allocation is part of validation
/// here: it reads the other Services and fails with field causes, as the API server's allocators do.
/// </summary>
internal sealed class ServiceStrategy : ModelStrategy<V1Service>
{
    public ServiceStrategy() => HasGeneration = false; // its 1.32 strategy keeps no metadata.generation

    private static readonly string[] Types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    private static readonly string[] Protocols = ["SCTP", "TCP", "UDP"];
    private static readonly string[] SessionAffinities = ["ClientIP", "None"];
    private static readonly string[] TrafficPolicies = ["Cluster", "Local"];
    private static readonly string[] TrafficDistributions = ["PreferClose"]; // 1.32 (PreferSameZone/PreferSameNode came in 1.33)

    /// <summary>Kubernetes' DefaultClientIPServiceAffinitySeconds and MaxClientIPServiceAffinitySeconds.</summary>
    private const int DefaultClientIpAffinitySeconds = 10800;
    private const int MaxClientIpAffinitySeconds = 86400;

    public override Names.Rule NameRule => Names.Rule.Dns1035Label;

    protected override void PrepareForCreate(V1Service service) =>
        service.Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus() };

    /// <summary>dropTypeDependentFields' last step: a load balancer's status goes with the type, at once (the
    /// LoadBalancer controller would clear it a moment later).</summary>
    protected override void PrepareForUpdate(V1Service service, V1Service old)
    {
        // a new status: the one taken over is the stored object's own
        if (service.Spec?.Type != "LoadBalancer" && service.Status?.LoadBalancer?.Ingress is { Count: > 0 })
            service.Status = new V1ServiceStatus { Conditions = service.Status.Conditions, LoadBalancer = new V1LoadBalancerStatus() };
    }

    protected override void Default(V1Service service)
    {
        var spec = service.Spec ??= new V1ServiceSpec();
        spec.Type ??= "ClusterIP";
        spec.SessionAffinity ??= "None";
        // SetDefaults_Service: no affinity, no config; ClientIP without a timeout gets 3 hours
        if (spec.SessionAffinity == "None") spec.SessionAffinityConfig = null;
        else if (spec.SessionAffinity == "ClientIP" && spec.SessionAffinityConfig?.ClientIP?.TimeoutSeconds is null)
            spec.SessionAffinityConfig = new V1SessionAffinityConfig { ClientIP = new V1ClientIPConfig { TimeoutSeconds = DefaultClientIpAffinitySeconds } };
        // every port of every type, as SetDefaults_Service; the internal policy where there are endpoints
        foreach (var port in spec.Ports ?? [])
        {
            port.Protocol ??= "TCP";
            port.TargetPort ??= port.Port;
        }
        if (spec.Type != "ExternalName") spec.InternalTrafficPolicy ??= "Cluster";
        // decoded defaults too, so admission webhooks see them: outside traffic handled cluster-wide, node ports for
        // a load balancer, and a load balancer's addresses in VIP mode (what the nodes' proxies do with them)
        if (ExternallyAccessible(spec) && string.IsNullOrEmpty(spec.ExternalTrafficPolicy)) spec.ExternalTrafficPolicy = "Cluster";
        if (spec.Type != "LoadBalancer") return;
        spec.AllocateLoadBalancerNodePorts ??= true;
        foreach (var ingress in service.Status?.LoadBalancer?.Ingress ?? [])
            if (!string.IsNullOrEmpty(ingress.Ip) && ingress.IpMode is null) ingress.IpMode = "VIP";
    }

    protected override void Validate(V1Service service, IAdmissionContext context, List<StoreErrorCause> causes) =>
        ValidateAndAllocate(service, null, context, causes);

    /// <summary>A /status update is validated as ValidateServiceStatusUpdate does: the load balancer's status.</summary>
    protected override bool ValidatesStatusUpdates => true;

    protected override void ValidateSubresourceUpdate(string subresource, V1Service service, V1Service old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        if (subresource == "status") ValidateLoadBalancerStatus(service, causes);
        else ValidateUpdate(service, old, context, causes);
    }

    private static readonly string[] LoadBalancerIpModes = ["Proxy", "VIP"];

    /// <summary>ValidateLoadBalancerStatus: ingress points only for a LoadBalancer Service, each an IP address with its
    /// ipMode (VIP or Proxy; defaulted to VIP) and/or a DNS name that is no IP address.</summary>
    private static void ValidateLoadBalancerStatus(V1Service service, List<StoreErrorCause> causes)
    {
        var ingresses = service.Status?.LoadBalancer?.Ingress ?? [];
        if (ingresses.Count == 0) return;
        if (service.Spec?.Type != "LoadBalancer")
        {
            causes.Add(FieldErrors.Forbidden("status.loadBalancer.ingress", "may only be used when `spec.type` is 'LoadBalancer'"));
            return;
        }
        for (var i = 0; i < ingresses.Count; i++)
        {
            var at = $"status.loadBalancer.ingress[{i}]";
            var ingress = ingresses[i] ?? new V1LoadBalancerIngress();
            var ip = ingress.Ip ?? "";
            if (ip.Length > 0 && !EndpointAddresses.TryParse(ip, out _))
                causes.Add(FieldErrors.Invalid($"{at}.ip", ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
            if (ingress.IpMode is null)
            {
                if (ip.Length > 0) causes.Add(FieldErrors.Required($"{at}.ipMode", "must be specified when `ip` is set"));
            }
            else if (ip.Length == 0) causes.Add(FieldErrors.Forbidden($"{at}.ipMode", "may not be specified when `ip` is not set"));
            else if (!LoadBalancerIpModes.Contains(ingress.IpMode))
                causes.Add(FieldErrors.NotSupported($"{at}.ipMode", ingress.IpMode, LoadBalancerIpModes));
            if (string.IsNullOrEmpty(ingress.Hostname)) continue;
            foreach (var message in Names.Check(ingress.Hostname, Names.Rule.Dns1123Subdomain))
                causes.Add(FieldErrors.Invalid($"{at}.hostname", ingress.Hostname, message));
            if (EndpointAddresses.TryParse(ingress.Hostname, out _))
                causes.Add(FieldErrors.Invalid($"{at}.hostname", ingress.Hostname, "must be a DNS name, not an IP address"));
        }
    }

    protected override void ValidateUpdate(V1Service service, V1Service old, IAdmissionContext context, List<StoreErrorCause> causes) =>
        ValidateAndAllocate(service, old.Spec, context, causes);

    private static void ValidateAndAllocate(V1Service service, V1ServiceSpec? previous, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        var spec = service.Spec!;
        if (!Types.Contains(spec.Type))
        {
            causes.Add(FieldErrors.NotSupported("spec.type", spec.Type, Types));
            return;
        }
        if (previous is not null) DropTypeDependentFields(spec, previous);
        ValidateExternalIps(spec, causes);
        ValidateAffinityAndPolicies(spec, causes);
        DefaultAndValidateExternalTrafficPolicy(spec, previous, causes);
        if (spec.Type == "ExternalName")
        {
            if (string.IsNullOrEmpty(spec.ExternalName)) causes.Add(FieldErrors.Required("spec.externalName"));
            // validateServiceClusterIPsRelatedFields: an ExternalName Service has no address of its own
            if (!string.IsNullOrEmpty(spec.ClusterIP) || spec.ClusterIPs is { Count: > 0 })
                causes.Add(FieldErrors.Forbidden("spec.clusterIPs", "may not be set for ExternalName services"));
            if (spec.IpFamilies is { Count: > 0 })
                causes.Add(FieldErrors.Forbidden("spec.ipFamilies", "may not be set for ExternalName services"));
            if (spec.IpFamilyPolicy is not null)
                causes.Add(FieldErrors.Forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"));
            return;
        }

        var withNodePorts = spec.Type is "NodePort" or "LoadBalancer";
        ValidatePorts(spec, withNodePorts, IsHeadless(spec, previous), causes);
        ValidateLoadBalancerFields(spec, previous, causes);
        if (causes.Count > 0) return;
        InitIpFamilies(spec, previous, causes);
        if (causes.Count > 0) return;

        var others = context.List("services").Cast<V1Service>()
            .Where(s => !(s.Metadata.NamespaceProperty == service.Metadata.NamespaceProperty && s.Metadata.Name == service.Metadata.Name))
            .ToList();
        AllocateClusterIp(spec, previous, others, causes);
        // allocateLoadBalancerNodePorts: false leaves out the ports not asked for (they are kept when already allocated)
        var allocate = spec.Type != "LoadBalancer" || spec.AllocateLoadBalancerNodePorts != false;
        if (withNodePorts) AllocateNodePorts(spec, previous, others, causes, allocate);
        if (causes.Count == 0 && NeedsHealthCheckNodePort(spec)) AllocateHealthCheckNodePort(spec, previous, others, causes);
    }

    /// <summary>ValidateService's checks of the fields the nodes' proxies follow: sessionAffinity and its ClientIP timeout
    /// (1..86400 s), the traffic policies and trafficDistribution, each of the values 1.32 supports.</summary>
    private static void ValidateAffinityAndPolicies(V1ServiceSpec spec, List<StoreErrorCause> causes)
    {
        if (!SessionAffinities.Contains(spec.SessionAffinity)) causes.Add(FieldErrors.NotSupported("spec.sessionAffinity", spec.SessionAffinity, SessionAffinities));
        else if (spec.SessionAffinity == "ClientIP")
        {
            const string detail = "when session affinity type is ClientIP";
            if (spec.SessionAffinityConfig is null) causes.Add(FieldErrors.Required("spec.sessionAffinityConfig", detail));
            else if (spec.SessionAffinityConfig.ClientIP is null) causes.Add(FieldErrors.Required("spec.sessionAffinityConfig.clientIP", detail));
            else if (spec.SessionAffinityConfig.ClientIP.TimeoutSeconds is not { } timeout)
                causes.Add(FieldErrors.Required("spec.sessionAffinityConfig.clientIP.timeoutSeconds", detail));
            else if (timeout is <= 0 or > MaxClientIpAffinitySeconds)
                causes.Add(FieldErrors.Invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout,
                    $"must be greater than 0 and less than {MaxClientIpAffinitySeconds}"));
        }
        if (spec.InternalTrafficPolicy is { } internalPolicy && !TrafficPolicies.Contains(internalPolicy))
            causes.Add(FieldErrors.NotSupported("spec.internalTrafficPolicy", internalPolicy, TrafficPolicies));
        if (spec.TrafficDistribution is { } distribution && !TrafficDistributions.Contains(distribution))
            causes.Add(FieldErrors.NotSupported("spec.trafficDistribution", distribution, TrafficDistributions));
    }

    /// <summary>dropTypeDependentFields: an update to a type that no longer has an allocated value releases it when the
    /// update left it as it was (a merge patch of the type alone carries every old value), so that
    /// `kubectl patch svc x -p '{"spec":{"type":"ClusterIP"}}'` of a NodePort Service succeeds; a value the update
    /// changed stays, for validation to refuse. The load balancer's own fields, the health check node port and
    /// externalTrafficPolicy are released where they are validated.</summary>
    private static void DropTypeDependentFields(V1ServiceSpec spec, V1ServiceSpec previous)
    {
        if (previous.Type != "ExternalName" && spec.Type == "ExternalName")
        {
            if (spec.ClusterIP == previous.ClusterIP && SameList(spec.ClusterIPs, previous.ClusterIPs))
            {
                spec.ClusterIP = null;
                spec.ClusterIPs = null;
            }
            if (SameList(spec.IpFamilies, previous.IpFamilies)) spec.IpFamilies = null;
            if (spec.IpFamilyPolicy == previous.IpFamilyPolicy) spec.IpFamilyPolicy = null;
        }
        static bool NeedsNodePorts(V1ServiceSpec s) => s.Type is "NodePort" or "LoadBalancer";
        static IEnumerable<int> NodePorts(V1ServiceSpec s) => (s.Ports ?? []).Select(p => p.NodePort ?? 0).Where(p => p != 0);
        // ports may be added, removed or changed, as long as no node port is new
        if (NeedsNodePorts(previous) && !NeedsNodePorts(spec) && NodePorts(spec).All(NodePorts(previous).Contains))
            foreach (var port in spec.Ports ?? []) port.NodePort = null;

        static bool SameList(IList<string>? a, IList<string>? b) => (a ?? []).SequenceEqual(b ?? []);
    }

    /// <summary>ValidateService's externalIPs: each an IP address, not unspecified, link-local or link-local multicast.
    /// Loopback addresses, which kube-apiserver refuses too, are allowed here: the nodes of this cluster live on the
    /// machine's loopback addresses (127.0.0.x), and a loopback externalIP is how a Service is reached from the machine
    /// (the nodes' proxies listen on it; other addresses only when they are the machine's own).</summary>
    private static void ValidateExternalIps(V1ServiceSpec spec, List<StoreErrorCause> causes)
    {
        for (var i = 0; i < (spec.ExternalIPs?.Count ?? 0); i++)
        {
            var text = spec.ExternalIPs![i] ?? "";
            if (!EndpointAddresses.TryParse(text, out var ip))
                causes.Add(FieldErrors.Invalid($"spec.externalIPs[{i}]", text, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
            else if (!System.Net.IPAddress.IsLoopback(ip))
                foreach (var problem in EndpointAddresses.SpecialAddressProblems(ip, text))
                    causes.Add(FieldErrors.Invalid($"spec.externalIPs[{i}]", text, problem));
        }
    }

    /// <summary>Kubernetes' ExternallyAccessible: node ports, a load balancer, or a ClusterIP Service with externalIPs —
    /// the Services whose traffic from outside externalTrafficPolicy governs.</summary>
    private static bool ExternallyAccessible(V1ServiceSpec spec) =>
        spec.Type is "NodePort" or "LoadBalancer" || (spec.Type == "ClusterIP" && spec.ExternalIPs is { Count: > 0 });

    /// <summary>externalTrafficPolicy as 1.32 treats it: dropped by an update to a type without outside traffic that
    /// left it as it was (dropTypeDependentFields), Cluster by default where it applies (SetDefaults_Service), and
    /// otherwise refused (validateServiceExternalTrafficPolicy). An unchanged value on a Service without outside traffic
    /// before the update is dropped too: earlier versions stored it there (a PUT from NodePort to ClusterIP kept the
    /// defaulted Cluster), and refusing every later update of such a Service would strand it.</summary>
    private static void DefaultAndValidateExternalTrafficPolicy(V1ServiceSpec spec, V1ServiceSpec? previous, List<StoreErrorCause> causes)
    {
        var accessible = ExternallyAccessible(spec);
        if (previous is not null && !accessible && spec.ExternalTrafficPolicy == previous.ExternalTrafficPolicy)
            spec.ExternalTrafficPolicy = null;
        if (string.IsNullOrEmpty(spec.ExternalTrafficPolicy))
        {
            spec.ExternalTrafficPolicy = accessible ? "Cluster" : null;
            return;
        }
        if (!accessible)
            causes.Add(FieldErrors.Invalid("spec.externalTrafficPolicy", spec.ExternalTrafficPolicy, "may only be set for externally-accessible services"));
        else if (!TrafficPolicies.Contains(spec.ExternalTrafficPolicy))
            causes.Add(FieldErrors.NotSupported("spec.externalTrafficPolicy", spec.ExternalTrafficPolicy, TrafficPolicies));
    }

    private static bool NeedsHealthCheckNodePort(V1ServiceSpec spec) => spec.Type == "LoadBalancer" && spec.ExternalTrafficPolicy == "Local";

    /// <summary>The LoadBalancer-only fields (ValidateService): allocateLoadBalancerNodePorts defaults to true and exists only
    /// for LoadBalancer; loadBalancerClass is a qualified name, only for LoadBalancer, and immutable (a type change away
    /// from LoadBalancer drops it); healthCheckNodePort only with externalTrafficPolicy Local.</summary>
    private static void ValidateLoadBalancerFields(V1ServiceSpec spec, V1ServiceSpec? previous, List<StoreErrorCause> causes)
    {
        var loadBalancer = spec.Type == "LoadBalancer";
        if (loadBalancer) spec.AllocateLoadBalancerNodePorts ??= true;
        else if (previous?.Type == "LoadBalancer")
        {
            // dropTypeDependentFields: what only a LoadBalancer had goes with the type
            if (spec.AllocateLoadBalancerNodePorts == previous.AllocateLoadBalancerNodePorts) spec.AllocateLoadBalancerNodePorts = null;
            if (spec.LoadBalancerClass == previous.LoadBalancerClass) spec.LoadBalancerClass = null;
            if (spec.HealthCheckNodePort == previous.HealthCheckNodePort) spec.HealthCheckNodePort = null;
        }
        if (previous is not null && NeedsHealthCheckNodePort(previous) && !NeedsHealthCheckNodePort(spec)
            && spec.HealthCheckNodePort == previous.HealthCheckNodePort)
            spec.HealthCheckNodePort = null; // released with the Local policy
        if (!loadBalancer && spec.AllocateLoadBalancerNodePorts is not null)
            causes.Add(FieldErrors.Forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"));
        if (spec.LoadBalancerClass is { } lbClass)
        {
            if (!loadBalancer)
                causes.Add(FieldErrors.Forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"));
            else
                foreach (var message in LabelRules.CheckKey(lbClass))
                    causes.Add(FieldErrors.Invalid("spec.loadBalancerClass", lbClass, message));
        }
        if (previous?.Type == "LoadBalancer" && loadBalancer && previous.LoadBalancerClass != spec.LoadBalancerClass)
            causes.Add(FieldErrors.Invalid("spec.loadBalancerClass", spec.LoadBalancerClass is null ? new RawValue("null") : spec.LoadBalancerClass,
                "may not change once set"));
        if (spec.HealthCheckNodePort is { } hc && hc != 0 && !NeedsHealthCheckNodePort(spec))
            causes.Add(FieldErrors.Invalid("spec.healthCheckNodePort", hc,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
        if (!string.IsNullOrEmpty(spec.LoadBalancerIP) && !loadBalancer)
            causes.Add(FieldErrors.Forbidden("spec.loadBalancerIP", "may only be used when `type` is 'LoadBalancer'"));
        else if (!string.IsNullOrEmpty(spec.LoadBalancerIP) && !System.Net.IPAddress.TryParse(spec.LoadBalancerIP, out _))
            causes.Add(FieldErrors.Invalid("spec.loadBalancerIP", spec.LoadBalancerIP, "must be a valid IP address"));
    }

    /// <summary>healthCheckNodePort: the one asked for (if free), the one already allocated, else the first free
    /// node port — as the API server allocates it for LoadBalancer services with externalTrafficPolicy Local.</summary>
    private static void AllocateHealthCheckNodePort(V1ServiceSpec spec, V1ServiceSpec? previous, List<V1Service> others, List<StoreErrorCause> causes)
    {
        var used = others.SelectMany(s => (s.Spec?.Ports ?? []).Select(p => p.NodePort ?? 0).Append(s.Spec?.HealthCheckNodePort ?? 0))
            .Where(p => p != 0).ToHashSet();
        foreach (var p in spec.Ports ?? []) if (p.NodePort is > 0) used.Add(p.NodePort.Value);
        if (spec.HealthCheckNodePort is { } asked && asked != 0)
        {
            if (asked is < NodePortRange.First or > NodePortRange.Last)
                causes.Add(FieldErrors.Invalid("spec.healthCheckNodePort", asked, "provided port is not in the valid range. The range of valid ports is " +
                                                                               $"{NodePortRange.First}-{NodePortRange.Last}"));
            else if (used.Contains(asked))
                causes.Add(FieldErrors.Invalid("spec.healthCheckNodePort", asked, "provided port is already allocated"));
            return;
        }
        if (previous?.HealthCheckNodePort is { } kept && kept != 0 && !used.Contains(kept))
        {
            spec.HealthCheckNodePort = kept;
            return;
        }
        var next = Enumerable.Range(NodePortRange.First, NodePortRange.Last - NodePortRange.First + 1).FirstOrDefault(n => !used.Contains(n));
        if (next == 0) causes.Add(FieldErrors.Invalid("spec.healthCheckNodePort", 0, "range is full"));
        else spec.HealthCheckNodePort = next;
    }

    /// <summary>clusterIP None (asked for now, or kept from the stored object when the update leaves it out), as
    /// Kubernetes' isHeadlessService: a headless Service may have no ports (`kubectl create service clusterip x
    /// --clusterip=None`).</summary>
    private static bool IsHeadless(V1ServiceSpec spec, V1ServiceSpec? previous)
    {
        var asked = string.IsNullOrEmpty(spec.ClusterIP) ? spec.ClusterIPs?.FirstOrDefault() : spec.ClusterIP;
        return (string.IsNullOrEmpty(asked) ? previous?.ClusterIP : asked) == "None";
    }

    private static void ValidatePorts(V1ServiceSpec spec, bool withNodePorts, bool headless, List<StoreErrorCause> causes)
    {
        var ports = spec.Ports ?? [];
        if (ports.Count == 0 && !headless) causes.Add(FieldErrors.Required("spec.ports"));
        var names = new HashSet<string>();
        var portKeys = new HashSet<(int, string)>();
        for (var i = 0; i < ports.Count; i++)
        {
            var p = ports[i];
            var at = $"spec.ports[{i}]";
            // Kubernetes keys service ports by (port, protocol) and reports the key in Go's notation.
            if (!portKeys.Add((p.Port, p.Protocol ?? "")))
                causes.Add(FieldErrors.Duplicate(at, new RawValue(
                    $"core.ServicePort{{Name:\"\", Protocol:\"{p.Protocol}\", AppProtocol:(*string)(nil), Port:{p.Port}, " +
                    "TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}")));
            if (ports.Count > 1 && string.IsNullOrEmpty(p.Name)) causes.Add(FieldErrors.Required($"{at}.name"));
            else if (!string.IsNullOrEmpty(p.Name) && !names.Add(p.Name)) causes.Add(FieldErrors.Duplicate($"{at}.name", p.Name));
            if (p.Port is < 1 or > 65535) causes.Add(FieldErrors.Invalid($"{at}.port", p.Port, PodSpecs.PortRange));
            if (!Protocols.Contains(p.Protocol)) causes.Add(FieldErrors.NotSupported($"{at}.protocol", p.Protocol, Protocols));
            if (int.TryParse(p.TargetPort?.Value, out var target) && target is < 1 or > 65535)
                causes.Add(FieldErrors.Invalid($"{at}.targetPort", target, PodSpecs.PortRange));
            if (!withNodePorts && p.NodePort is { } np && np != 0)
                causes.Add(FieldErrors.Forbidden($"{at}.nodePort", $"may not be used when `type` is '{spec.Type}'"));
        }
    }

    private static void AllocateClusterIp(V1ServiceSpec spec, V1ServiceSpec? previous, List<V1Service> others,
        List<StoreErrorCause> causes)
    {
        var requested = string.IsNullOrEmpty(spec.ClusterIP) ? spec.ClusterIPs?.FirstOrDefault() : spec.ClusterIP;
        if (previous is not null && !string.IsNullOrEmpty(previous.ClusterIP))
        {
            if (!string.IsNullOrEmpty(requested) && requested != previous.ClusterIP)
            {
                causes.Add(FieldErrors.Invalid("spec.clusterIPs[0]", requested, "may not change once set"));
                return;
            }
            requested = previous.ClusterIP;
        }
        else if (requested is null or "")
        {
            requested = ClusterIpRange.NextFree(others.Select(s => s.Spec?.ClusterIP));
            if (requested is null)
            {
                causes.Add(FieldErrors.Invalid("spec.clusterIPs", new RawValue("[]string(nil)"), "failed to allocate IP: range is full"));
                return;
            }
        }
        else if (requested != "None")
        {
            var problem = ClusterIpRange.Contains(requested)
                ? others.Any(s => s.Spec?.ClusterIP == requested) ? "provided IP is already allocated" : null
                : $"the provided IP ({requested}) is not in the valid range. The range of valid IPs is {ClusterIpRange.Cidr}";
            if (problem is not null)
            {
                causes.Add(FieldErrors.Invalid("spec.clusterIPs", new RawValue($"[]string{{\"{requested}\"}}"),
                    $"failed to allocate IP {requested}: {problem}"));
                return;
            }
        }
        spec.ClusterIP = requested;
        spec.ClusterIPs = [requested];
    }

    private static readonly string[] IpFamilies = ["IPv4", "IPv6"];
    private static readonly string[] IpFamilyPolicies = ["PreferDualStack", "RequireDualStack", "SingleStack"];

    /// <summary>ipFamilyPolicy and ipFamilies as kube-apiserver's initIPFamilyFields sets and checks them on a
    /// single-stack IPv4 cluster (the service range is IPv4 only): the policy defaults to the stored one, else
    /// RequireDualStack for a headless Service without a selector, else SingleStack; the families default to IPv4. A
    /// headless selectorless Service that is not SingleStack also lists IPv6, as Kubernetes allows; any other Service
    /// asking for IPv6 or for dual-stack is refused, rather than given an IPv4 address under an IPv6 family.</summary>
    private static void InitIpFamilies(V1ServiceSpec spec, V1ServiceSpec? previous, List<StoreErrorCause> causes)
    {
        var families = spec.IpFamilies ?? [];
        var seen = new HashSet<string>();
        for (var i = 0; i < families.Count; i++)
        {
            if (!IpFamilies.Contains(families[i])) causes.Add(FieldErrors.NotSupported($"spec.ipFamilies[{i}]", families[i], IpFamilies));
            if (!seen.Add(families[i])) causes.Add(FieldErrors.Duplicate($"spec.ipFamilies[{i}]", families[i]));
        }
        if (spec.IpFamilyPolicy is { } asked && !IpFamilyPolicies.Contains(asked))
            causes.Add(FieldErrors.NotSupported("spec.ipFamilyPolicy", asked, IpFamilyPolicies));
        if (causes.Count > 0) return;

        var headlessSelectorless = IsHeadless(spec, previous) && spec.Selector is not { Count: > 0 };
        spec.IpFamilyPolicy ??= previous?.IpFamilyPolicy ?? (headlessSelectorless ? "RequireDualStack" : "SingleStack");
        if (spec.IpFamilyPolicy == "SingleStack" && families.Count == 2)
        {
            causes.Add(FieldErrors.Invalid("spec.ipFamilyPolicy", spec.IpFamilyPolicy,
                "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
            return;
        }
        if (headlessSelectorless)
        {
            // such a Service gets no address, so it may name both families even on a single-stack cluster
            if (families.Count == 0) families = ["IPv4"];
            if (families.Count < 2 && spec.IpFamilyPolicy != "SingleStack") families = [families[0], families[0] == "IPv4" ? "IPv6" : "IPv4"];
            spec.IpFamilies = families;
            return;
        }
        if (spec.IpFamilyPolicy == "RequireDualStack")
            causes.Add(FieldErrors.Invalid("spec.ipFamilyPolicy", spec.IpFamilyPolicy, "this cluster is not configured for dual-stack services"));
        for (var i = 0; i < families.Count; i++)
            if (families[i] != "IPv4") causes.Add(FieldErrors.Invalid($"spec.ipFamilies[{i}]", families[i], "not configured on this cluster"));
        if (causes.Count > 0) return;
        spec.IpFamilies = families.Count == 0 ? ["IPv4"] : families;
    }

    private static void AllocateNodePorts(V1ServiceSpec spec, V1ServiceSpec? previous, List<V1Service> others,
        List<StoreErrorCause> causes, bool allocate = true)
    {
        var used = others.SelectMany(s => (s.Spec?.Ports ?? []).Select(p => p.NodePort ?? 0).Append(s.Spec?.HealthCheckNodePort ?? 0))
            .Where(p => p != 0).ToHashSet();
        var ports = spec.Ports!;
        // Requested ports first, so that automatic allocation never takes a port asked for explicitly.
        for (var i = 0; i < ports.Count; i++)
        {
            var p = ports[i];
            if (p.NodePort is null or 0) continue;
            var at = $"spec.ports[{i}].nodePort";
            if (p.NodePort is < NodePortRange.First or > NodePortRange.Last)
                causes.Add(FieldErrors.Invalid(at, p.NodePort, "provided port is not in the valid range. The range of valid ports is " +
                                                                $"{NodePortRange.First}-{NodePortRange.Last}"));
            else if (!used.Add(p.NodePort.Value) && !ReusedWithinService(ports, i))
                causes.Add(FieldErrors.Invalid(at, p.NodePort, "provided port is already allocated"));
        }
        if (causes.Count > 0) return;
        foreach (var p in ports.Where(p => p.NodePort is null or 0))
        {
            var kept = previous?.Ports?.FirstOrDefault(o => o.Port == p.Port && (o.Protocol ?? "TCP") == p.Protocol && o.NodePort is > 0)?.NodePort;
            if (kept is { } k && used.Add(k)) p.NodePort = k;
            else if (!allocate) continue;
            else
            {
                var next = Enumerable.Range(NodePortRange.First, NodePortRange.Last - NodePortRange.First + 1).FirstOrDefault(n => !used.Contains(n));
                if (next == 0)
                {
                    causes.Add(FieldErrors.Invalid($"spec.ports[{ports.IndexOf(p)}].nodePort", 0, "range is full"));
                    return;
                }
                used.Add(next);
                p.NodePort = next;
            }
        }
    }

    /// <summary>Kubernetes lets one service use a nodePort for the same port number on two protocols.</summary>
    private static bool ReusedWithinService(IList<V1ServicePort> ports, int index) =>
        ports.Take(index).Any(o => o.NodePort == ports[index].NodePort && o.Protocol != ports[index].Protocol);
}
