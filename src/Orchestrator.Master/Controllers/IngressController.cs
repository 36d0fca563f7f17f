using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// The master's half of the ingress controller of class <c>orchestrator</c> (the nodes' proxies route the traffic):
/// creates the IngressClass at start when the cluster has none of ours (marked default unless another class is), and
/// writes status.loadBalancer.ingress of every Ingress it serves (<see cref="IngressFacts.Served"/>) — the InternalIP
/// of each Ready node, where the proxies listen — so <c>kubectl get ingress</c> shows ADDRESS. Ingresses of other
/// classes are never touched.
/// </summary>
internal sealed class IngressController : ControllerActor
{
    private const string Nodes = "nodes";

    public IngressController(IActorRef store, TimeSpan resync)
        : base(store, [IngressFacts.Ingresses, IngressFacts.IngressClasses, Nodes], resync)
    {
    }

    public static Props Props(IActorRef store, TimeSpan resync) => Akka.Actor.Props.Create(() => new IngressController(store, resync));

    protected override void OnSynced()
    {
        var classes = Cache.List<V1IngressClass>(IngressFacts.IngressClasses).ToList();
        if (classes.Any(c => c.Spec?.Controller == IngressFacts.ControllerName || c.Metadata.Name == IngressFacts.ClassName)) return;
        var anotherDefault = classes.Any(c => c.Metadata.Annotations?.TryGetValue(IngressFacts.DefaultClassAnnotation, out var v) == true && v == "true");
        Send(new CreateObject(IngressFacts.IngressClasses, IngressFacts.DefaultClass(!anotherDefault)), "ingressclass");
    }

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(IngressFacts.Ingresses).ToList();

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource == IngressFacts.Ingresses) Enqueue(ObjectCache.KeyOf(resource, (current ?? old)!));
        else foreach (var key in AllKeys()) Enqueue(key); // a class or a node changed: any Ingress may be affected
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (Cache.Get(key) is not V1Ingress ingress) return;
        if (!IngressFacts.Served(ingress, Cache.List<V1IngressClass>(IngressFacts.IngressClasses))) return;
        var wanted = NodeAddresses();
        var current = (ingress.Status?.LoadBalancer?.Ingress ?? []).Select(i => i.Ip ?? "").ToList();
        if (current.SequenceEqual(wanted)) return;
        var updated = KubeObjects.Clone(ingress);
        updated.Status ??= new V1IngressStatus();
        updated.Status.LoadBalancer = new V1IngressLoadBalancerStatus
        {
            Ingress = wanted.Count == 0 ? null : wanted.Select(ip => new V1IngressLoadBalancerIngress { Ip = ip }).ToList(),
        };
        Send(new UpdateObject(IngressFacts.Ingresses, updated, "status"), key);
    }

    /// <summary>The InternalIP of every Ready node, sorted and distinct (several nodes may share a machine's address).</summary>
    private List<string> NodeAddresses() =>
        Cache.List<V1Node>(Nodes)
            .Where(n => n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
            .Select(n => n.Status!.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address)
            .OfType<string>().Distinct().OrderBy(a => a, StringComparer.Ordinal).ToList();

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is ResourceKey key && reply.Failed is { } failed && failed.Error.Code != 404) RequeueAfter(key, TimeSpan.FromSeconds(1));
        else if (reply.Tag is "ingressclass" && reply.Failed is { } f && f.Error.Code != 409)
            Log.Warning("could not create the IngressClass {0}: {1} {2}", IngressFacts.ClassName, f.Error.Code, f.Error.Message);
        base.OnStoreReplied(reply);
    }
}
