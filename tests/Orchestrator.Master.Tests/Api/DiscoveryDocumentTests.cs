using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>The legacy discovery documents byte for byte where clients match them raw: kubectl's own command tests grep
/// /api/v1 for whole entries (test/cmd/discovery.sh, run_assert_short_name_tests and run_assert_categories_tests).</summary>
public sealed class DiscoveryDocumentTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_core_resource_list_is_written_in_the_field_order_of_kube_apiserver()
    {
        var text = await _server.Client.GetStringAsync("/api/v1");

        Assert.StartsWith("""{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"v1","resources":[""", text);
        Assert.Contains("""{"name":"configmaps","singularName":"configmap","namespaced":true,"kind":"ConfigMap","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["cm"],"storageVersionHash":"qFsyl6wFWjQ="}""", text);
        // A subresource names its own group and version before its kind, and has no hash.
        Assert.Contains("""{"name":"pods/eviction","singularName":"","namespaced":true,"group":"policy","version":"v1","kind":"Eviction","verbs":["create"]}""", text);
    }

    [Fact]
    public async Task Categories_follow_the_short_names_inside_the_entry_of_pods()
    {
        var text = await _server.Client.GetStringAsync("/api/v1");

        // test-cmd cuts the pods entry from its name to the first "}" and looks for the category there.
        var pods = text[text.IndexOf("\"name\":\"pods\"", StringComparison.Ordinal)..];
        pods = pods[..(pods.IndexOf('}') + 1)];
        Assert.Equal("""
            "name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["po"],"categories":["all"],"storageVersionHash":"xPOwRZ+Yhw8="}
            """, pods);
    }

    [Fact]
    public async Task Resources_without_object_storage_carry_no_storage_version_hash()
    {
        var text = await _server.Client.GetStringAsync("/apis/authentication.k8s.io/v1");

        Assert.Contains("\"name\":\"tokenreviews\"", text);
        Assert.DoesNotContain("storageVersionHash", text);
    }

    [Fact]
    public async Task A_group_resource_hashes_its_group_version_and_kind()
    {
        var text = await _server.Client.GetStringAsync("/apis/apps/v1");

        var expected = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData("apps/v1/Deployment"u8.ToArray()), 0, 8);
        Assert.Contains($"\"kind\":\"Deployment\",\"verbs\":[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\",\"update\",\"watch\"],\"shortNames\":[\"deploy\"],\"categories\":[\"all\"],\"storageVersionHash\":\"{expected}\"", text);
    }
}
