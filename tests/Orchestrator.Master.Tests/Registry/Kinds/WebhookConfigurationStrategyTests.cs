using k8s.Models;
using Orchestrator.Master.Registry.Kinds.AdmissionRegistration;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

public sealed class WebhookConfigurationStrategyTests
{
    private static V1ValidatingWebhook Webhook(string name = "deny.example.com") => new()
    {
        Name = name,
        ClientConfig = new Admissionregistrationv1WebhookClientConfig { Url = "https://127.0.0.1:8443/validate" },
        Rules = [new V1RuleWithOperations { Operations = ["CREATE"], ApiGroups = [""], ApiVersions = ["v1"], Resources = ["configmaps"] }],
        SideEffects = "None", AdmissionReviewVersions = ["v1"],
    };

    private static V1ValidatingWebhookConfiguration Validating(params V1ValidatingWebhook[] webhooks) =>
        new() { Metadata = new V1ObjectMeta { Name = "c" }, Webhooks = webhooks };

    private static List<string> Problems(V1ValidatingWebhookConfiguration configuration) =>
        Strategies.Admit(AdmissionRegistrationResources.ValidatingWebhookConfigurations, configuration).Select(c => $"{c.Field}: {c.Message}").ToList();

    [Fact]
    public void A_valid_validating_webhook_is_defaulted_as_kube_v1_defaults_it()
    {
        var configuration = Validating(Webhook());
        Assert.Empty(Problems(configuration));
        var w = configuration.Webhooks[0];
        Assert.Equal("Fail", w.FailurePolicy);
        Assert.Equal("Equivalent", w.MatchPolicy);
        Assert.Equal(10, w.TimeoutSeconds);
        Assert.NotNull(w.NamespaceSelector);
        Assert.NotNull(w.ObjectSelector);
        Assert.Equal("*", w.Rules[0].Scope);
    }

    [Fact]
    public void A_mutating_webhook_defaults_reinvocation_never_and_a_service_port_443()
    {
        var configuration = new V1MutatingWebhookConfiguration
        {
            Metadata = new V1ObjectMeta { Name = "m" },
            Webhooks =
            [
                new V1MutatingWebhook
                {
                    Name = "label.example.com", SideEffects = "None", AdmissionReviewVersions = ["v1beta1", "v1"],
                    ClientConfig = new Admissionregistrationv1WebhookClientConfig
                        { Service = new Admissionregistrationv1ServiceReference { Name = "hook", NamespaceProperty = "default", Path = "/mutate" } },
                },
            ],
        };
        Assert.Empty(Strategies.Admit(AdmissionRegistrationResources.MutatingWebhookConfigurations, configuration));
        Assert.Equal("Never", configuration.Webhooks[0].ReinvocationPolicy);
        Assert.Equal(443, configuration.Webhooks[0].ClientConfig.Service.Port);
        Assert.Equal("Fail", configuration.Webhooks[0].FailurePolicy);
    }

    [Fact]
    public void Names_must_be_unique_and_fully_qualified()
    {
        Assert.Contains("webhooks[1].name: Duplicate value: \"deny.example.com\"", Problems(Validating(Webhook(), Webhook())));
        Assert.Contains("webhooks[0].name: Invalid value: \"deny\": should be a domain with at least three segments separated by dots",
            Problems(Validating(Webhook("deny"))));
    }

    [Fact]
    public void Side_effects_and_review_versions_are_required_in_v1()
    {
        var w = Webhook();
        (w.SideEffects, w.AdmissionReviewVersions) = (null, null);
        var problems = Problems(Validating(w));
        Assert.Contains("webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun", problems);
        Assert.Contains("webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1", problems);
        w.SideEffects = "Some";
        w.AdmissionReviewVersions = ["v2"];
        problems = Problems(Validating(w));
        Assert.Contains("webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\"", problems);
        Assert.Contains(problems, p => p.StartsWith("webhooks[0].admissionReviewVersions: Invalid value") && p.EndsWith("must include at least one of v1, v1beta1"));
    }

    [Theory]
    [InlineData("http://example.com/x", "'https' is the only allowed URL scheme")]
    [InlineData("https://user@example.com/x", "user information is not permitted in the URL")]
    [InlineData("https://example.com/x?a=b", "query parameters are not permitted in the URL")]
    [InlineData("https://example.com/x#f", "fragments are not permitted in the URL")]
    public void A_url_is_https_without_user_query_or_fragment(string url, string problem)
    {
        var w = Webhook();
        w.ClientConfig.Url = url;
        Assert.Contains($"webhooks[0].clientConfig.url: Invalid value: \"{url}\": {problem}", Problems(Validating(w)));
    }

    [Fact]
    public void Client_config_is_exactly_one_of_url_and_service_with_a_valid_port_and_path()
    {
        var w = Webhook();
        w.ClientConfig.Service = new Admissionregistrationv1ServiceReference { Name = "s", NamespaceProperty = "default" };
        Assert.Contains("webhooks[0].clientConfig: Required value: exactly one of url or service is required", Problems(Validating(w)));
        w.ClientConfig = new Admissionregistrationv1WebhookClientConfig
            { Service = new Admissionregistrationv1ServiceReference { Name = "s", NamespaceProperty = "default", Port = 70000, Path = "x//y" } };
        var problems = Problems(Validating(w));
        Assert.Contains("webhooks[0].clientConfig.service.port: Invalid value: 70000: port is not valid: must be between 1 and 65535, inclusive", problems);
        Assert.Contains("webhooks[0].clientConfig.service.path: Invalid value: \"x//y\": must start with a '/'", problems);
        Assert.Contains("webhooks[0].clientConfig.service.path: Invalid value: \"x//y\": segment[0] may not be empty", problems);
    }

    [Fact]
    public void Timeout_policies_and_rules_are_checked()
    {
        var w = Webhook();
        (w.TimeoutSeconds, w.FailurePolicy, w.MatchPolicy) = (31, "Sometimes", "Roughly");
        w.Rules[0].Operations = ["CONNECT"];
        w.Rules[0].Resources = ["pods/exec"];
        var problems = Problems(Validating(w));
        Assert.Contains("webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds", problems);
        Assert.Contains("webhooks[0].failurePolicy: Unsupported value: \"Sometimes\": supported values: \"Fail\", \"Ignore\"", problems);
        Assert.Contains("webhooks[0].matchPolicy: Unsupported value: \"Roughly\": supported values: \"Equivalent\", \"Exact\"", problems);
        Assert.Contains(problems, p => p.StartsWith("webhooks[0].rules[0].operations[0]: Forbidden: CONNECT requests"));
        Assert.Contains(problems, p => p.StartsWith("webhooks[0].rules[0].resources[0]: Forbidden: requests to the exec subresource are not sent"));
    }

    [Fact]
    public void Match_conditions_are_compiled_without_params_or_namespace_object()
    {
        var w = Webhook();
        w.MatchConditions = [new V1MatchCondition { Name = "ns", Expression = "namespaceObject.metadata.name == 'x'" }];
        Assert.Contains(Problems(Validating(w)), p => p.StartsWith("webhooks[0].matchConditions[0].expression: Invalid value") && p.Contains("namespaceObject"));
        w.MatchConditions = [new V1MatchCondition { Name = "labelled", Expression = "has(object.metadata.labels)" }];
        Assert.Empty(Problems(Validating(w)));
    }

    [Fact]
    public void An_unknown_reinvocation_policy_is_refused()
    {
        var configuration = new V1MutatingWebhookConfiguration
        {
            Metadata = new V1ObjectMeta { Name = "m" },
            Webhooks = [new V1MutatingWebhook
            {
                Name = "a.example.com", SideEffects = "None", AdmissionReviewVersions = ["v1"], ReinvocationPolicy = "Always",
                ClientConfig = new Admissionregistrationv1WebhookClientConfig { Url = "https://example.com/m" },
            }],
        };
        var cause = Assert.Single(Strategies.Admit(AdmissionRegistrationResources.MutatingWebhookConfigurations, configuration));
        Assert.Equal("webhooks[0].reinvocationPolicy", cause.Field);
    }
}
