using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>POST pods/{name}/binding: sets spec.nodeName once, with PodScheduled=True and the binding's annotations (as
/// kube-apiserver's BindingREST); a bound or scheduling-gated pod, or a failed UID/resourceVersion precondition, is a 409.</summary>
internal sealed class PodBinding(ResourceHandlers resources) : ISubresourceHandler
{
    public string Group => "";
    public string Resource => "pods";
    public string Subresource => "binding";

    public async Task HandleAsync(HttpContext context, ResourceDescription pods, string? ns, string name)
    {
        if (!HttpMethods.IsPost(context.Request.Method)) throw ApiException.MethodNotAllowed(context.Request.Method);
        var binding = await RequestBodies.ReadJsonAsync<V1Binding>(context, "Binding", "v1")
                      ?? throw ApiException.BadRequest("the body of the request was empty");
        if (binding.Metadata?.Name is { Length: > 0 } bindingName && bindingName != name)
            throw ApiException.BadRequest($"the name of the object ({bindingName}) does not match the name on the URL ({name})");
        await BindAsync(context, pods, ns, name, binding);
    }

    /// <summary>Binds the pod <paramref name="name"/> as the binding says and answers 201 Success (also for the
    /// legacy <c>bindings</c> resource, which names the pod in the binding).</summary>
    public async Task BindAsync(HttpContext context, ResourceDescription pods, string? ns, string name, V1Binding binding)
    {
        // ValidatePodBinding: a target of kind Node (or none), with a name
        if (binding.Target?.Kind is { Length: > 0 } kind && kind != "Node")
            throw ApiException.Invalid(pods, name, "target.kind", $"Unsupported value: \"{kind}\": supported values: \"Node\", \"<empty>\"");
        var node = binding.Target?.Name;
        if (string.IsNullOrEmpty(node)) throw ApiException.Invalid(pods, name, "target.name", "Required value");
        // then the registry's key function (NamespaceKeyFunc) on the pod's name, which the legacy resource takes from
        // the body: required, and a path segment
        if (name.Length == 0) throw ApiException.BadRequest("Name parameter required.");
        if (PathSegmentName.Problems(name) is { Count: > 0 } problems)
            throw ApiException.BadRequest($"Name parameter invalid: {GoQuote.Quote(name)}: {string.Join(";", problems)}");
        var dryRun = WriteOptions.DryRun(context);
        var manager = WriteOptions.Manager(context) is { } named ? named with { Subresource = "binding" } : null;
        await resources.PatchLoopAsync(context, pods, ns, name, current =>
        {
            var pod = (V1Pod)current;
            // the order of kube-apiserver's BindingREST: preconditions, then an assigned node, then scheduling gates
            if (binding.Metadata?.Uid is { Length: > 0 } uid && uid != pod.Metadata.Uid)
                throw Conflict(name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {pod.Metadata.Uid}");
            if (binding.Metadata?.ResourceVersion is { Length: > 0 } version && version != pod.Metadata.ResourceVersion)
                throw Conflict(name, $"Precondition failed: ResourceVersion in precondition: {version}, ResourceVersion in object meta: {pod.Metadata.ResourceVersion}");
            if (!string.IsNullOrEmpty(pod.Spec?.NodeName))
                throw Conflict(name, $"pod {name} is already assigned to node \"{pod.Spec.NodeName}\"");
            if (pod.Spec?.SchedulingGates is { Count: > 0 })
                throw Conflict(name, $"pod {name} has non-empty .spec.schedulingGates");
            // the store's binding (PodBindings) checks these again on the pod it binds, and sets spec.nodeName, adds the binding's annotations and PodScheduled=True
            return new V1Pod
            {
                ApiVersion = pod.ApiVersion, Kind = pod.Kind,
                Metadata = new V1ObjectMeta
                {
                    Name = pod.Metadata.Name, NamespaceProperty = pod.Metadata.NamespaceProperty,
                    ResourceVersion = pod.Metadata.ResourceVersion, Annotations = binding.Metadata?.Annotations,
                },
                Spec = new V1PodSpec { NodeName = node },
            };
        }, pod => new UpdateObject(pods.StoreName, pod, "binding", dryRun, manager));
        await ApiResponses.WriteStatusAsync(context, 201, StatusResponses.Success(201));
    }

    /// <summary>kube-apiserver answers every refused binding as a conflict on pods/binding.</summary>
    private static ApiException Conflict(string name, string reason) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on pods/binding \"{name}\": {reason}",
            new V1StatusDetails { Name = name, Kind = "pods/binding" });
}
