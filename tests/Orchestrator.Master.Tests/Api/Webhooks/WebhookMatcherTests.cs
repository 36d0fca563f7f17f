using System.Text.Json.Nodes;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Webhooks;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Core;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Webhooks;

public sealed class WebhookMatcherTests
{
    private static WebhookRequest Request(ResourceDescription resource, string operation = "CREATE", string? subresource = null,
        Dictionary<string, string>? labels = null, Dictionary<string, string>? oldLabels = null, Dictionary<string, string>? namespaceLabels = null)
    {
        var ns = resource.Namespaced ? "default" : null;
        V1ConfigMap? Make(Dictionary<string, string>? l) => l is null ? null : new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "x", NamespaceProperty = ns, Labels = l } };
        var obj = operation == "DELETE" ? null : Make(labels ?? []);
        return new WebhookRequest(resource, operation, subresource, "x", ns, obj, Make(oldLabels), namespaceLabels, null, false, new JsonObject());
    }

    private static V1ValidatingWebhook Hook(string resources = "*", string operations = "*", string? scope = null) => new()
    {
        Name = "a.example.com",
        Rules = [new V1RuleWithOperations { Operations = [operations], ApiGroups = ["*"], ApiVersions = ["*"], Resources = [resources], Scope = scope }],
    };

    [Theory]
    [InlineData("*", null, true)]
    [InlineData("*", "status", false)]
    [InlineData("*/*", "status", true)]
    [InlineData("pods/status", "status", true)]
    [InlineData("pods/status", null, false)]
    [InlineData("pods/*", "ephemeralcontainers", true)]
    [InlineData("*/status", "status", true)]
    [InlineData("configmaps", null, false)]
    public void Resources_match_with_subresources_and_wildcards(string pattern, string? subresource, bool matches) =>
        Assert.Equal(matches, WebhookMatcher.Matches(Hook(pattern), Request(CoreResources.Pods, "UPDATE", subresource)));

    [Fact]
    public void Operations_and_scope_select_requests()
    {
        Assert.False(WebhookMatcher.Matches(Hook(operations: "DELETE"), Request(CoreResources.ConfigMaps)));
        Assert.True(WebhookMatcher.Matches(Hook(operations: "CREATE"), Request(CoreResources.ConfigMaps)));
        Assert.False(WebhookMatcher.Matches(Hook(scope: "Cluster"), Request(CoreResources.ConfigMaps)));
        Assert.True(WebhookMatcher.Matches(Hook(scope: "Cluster"), Request(CoreResources.Nodes)));
        // a Namespace is cluster-scoped for a rule's scope
        Assert.True(WebhookMatcher.Matches(Hook(scope: "Cluster"), Request(CoreResources.Namespaces)));
        Assert.False(WebhookMatcher.Matches(Hook(scope: "Namespaced"), Request(CoreResources.Namespaces)));
    }

    [Fact]
    public void Api_group_and_version_must_match()
    {
        var hook = Hook("deployments");
        hook.Rules[0].ApiGroups = ["apps"];
        hook.Rules[0].ApiVersions = ["v1"];
        Assert.True(WebhookMatcher.Matches(hook, Request(AppsResources.Deployments)));
        hook.Rules[0].ApiGroups = [""];
        Assert.False(WebhookMatcher.Matches(hook, Request(AppsResources.Deployments)));
    }

    [Fact]
    public void The_namespace_selector_reads_the_namespace_labels_and_passes_cluster_scoped_requests()
    {
        var hook = Hook();
        hook.NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["hooked"] = "yes" } };
        Assert.False(WebhookMatcher.Matches(hook, Request(CoreResources.ConfigMaps, namespaceLabels: [])));
        Assert.True(WebhookMatcher.Matches(hook, Request(CoreResources.ConfigMaps, namespaceLabels: new() { ["hooked"] = "yes" })));
        Assert.True(WebhookMatcher.Matches(hook, Request(CoreResources.Nodes)));
        // a Namespace itself is judged by its own labels
        Assert.True(WebhookMatcher.Matches(hook, Request(CoreResources.Namespaces, labels: new() { ["hooked"] = "yes" })));
        Assert.False(WebhookMatcher.Matches(hook, Request(CoreResources.Namespaces, labels: [])));
    }

    [Fact]
    public void The_object_selector_matches_the_new_or_the_old_object()
    {
        var hook = Hook();
        hook.ObjectSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } };
        Assert.False(WebhookMatcher.Matches(hook, Request(CoreResources.ConfigMaps, labels: [])));
        Assert.True(WebhookMatcher.Matches(hook, Request(CoreResources.ConfigMaps, "UPDATE", labels: [], oldLabels: new() { ["app"] = "web" })));
        Assert.True(WebhookMatcher.Matches(hook, Request(CoreResources.ConfigMaps, "DELETE", oldLabels: new() { ["app"] = "web" })));
    }

    [Fact]
    public void Match_conditions_select_and_an_error_fails_closed_only_under_Fail()
    {
        var hook = Hook();
        hook.MatchConditions = [new V1MatchCondition { Name = "labelled", Expression = "'app' in object.metadata.labels" }];
        Assert.False(WebhookMatcher.Matches(hook, Request(CoreResources.ConfigMaps, labels: [])));
        Assert.True(WebhookMatcher.Matches(hook, Request(CoreResources.ConfigMaps, labels: new() { ["app"] = "x" })));
        hook.MatchConditions = [new V1MatchCondition { Name = "broken", Expression = "object.metadata.nothing.here == 1" }];
        var refusal = Assert.Throws<ApiException>(() => WebhookMatcher.Matches(hook, Request(CoreResources.ConfigMaps)));
        Assert.Equal(403, refusal.Code);
        Assert.StartsWith("configmaps \"x\" is forbidden: ", refusal.Message);
        hook.FailurePolicy = "Ignore";
        Assert.False(WebhookMatcher.Matches(hook, Request(CoreResources.ConfigMaps)));
    }
}
