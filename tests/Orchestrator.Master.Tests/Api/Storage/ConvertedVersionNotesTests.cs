using System.Net;
using System.Text;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Storage;

/// <summary>A write in a served version that is not the stored one (autoscaling/v1 over the stored autoscaling/v2)
/// answers with the admission warnings of the write as one in the stored version does.</summary>
public sealed class ConvertedVersionNotesTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_policys_warning_on_an_autoscaling_v1_create_reaches_the_client()
    {
        Assert.Equal(HttpStatusCode.Created, (await _server.SendAsync(HttpMethod.Post, "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies", """
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicy","metadata":{"name":"max-replicas.example.com"},
             "spec":{"failurePolicy":"Fail","matchConstraints":{"resourceRules":[{"apiGroups":["autoscaling"],"apiVersions":["*"],
               "operations":["CREATE"],"resources":["horizontalpodautoscalers"]}]},
               "validations":[{"expression":"object.spec.maxReplicas <= 5"}]}}
            """)).Status);
        Assert.Equal(HttpStatusCode.Created, (await _server.SendAsync(HttpMethod.Post, "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings", """
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicyBinding","metadata":{"name":"max-replicas-binding.example.com"},
             "spec":{"policyName":"max-replicas.example.com","validationActions":["Warn"]}}
            """)).Status);

        foreach (var version in new[] { "v1", "v2" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/apis/autoscaling/{version}/namespaces/default/horizontalpodautoscalers")
            {
                Content = new StringContent($$$"""
                    {"apiVersion":"autoscaling/{{{version}}}","kind":"HorizontalPodAutoscaler","metadata":{"name":"web-{{{version}}}"},
                     "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":1,"maxReplicas":10}}
                    """, Encoding.UTF8, "application/json"),
            };
            using var response = await _server.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.True(response.Headers.TryGetValues("Warning", out var warnings), $"autoscaling/{version}: no Warning header");
            Assert.Contains(warnings, w => w.Contains("Validation failed for ValidatingAdmissionPolicy 'max-replicas.example.com' with binding " +
                                                      "'max-replicas-binding.example.com': failed expression: object.spec.maxReplicas <= 5"));
        }
    }
}
