using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.TestHost;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>One API server (real store, in-memory journal) seeded with the objects the bad-input cases aim at.</summary>
public sealed class BadInputFixture : IAsyncLifetime
{
    internal ApiTestServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await ApiTestServer.StartAsync();
        await Seed(BadInputCases.Deployments, BadInputCases.Deployment("web", selector: """{"matchLabels":{"app":"web"}}""",
            templateLabels: """{"app":"web"}"""));
        await Seed(BadInputCases.ReplicaSets, BadInputCases.ReplicaSet("rs", """{"matchLabels":{"app":"rs"}}"""));
        await Seed(BadInputCases.Services, BadInputCases.Service("svc", type: "NodePort", ports: """[{"port":80,"nodePort":30100}]"""));
        await Seed(BadInputCases.Services, BadInputCases.Service("plain"));
        await Seed("/api/v1/namespaces/default/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod"},"spec":{"containers":[{"name":"c","image":"i"}]}}""");
    }

    private async Task Seed(string path, string body)
    {
        using var response = await Server.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>Every object of every resource, serialized: the store's whole content as the API shows it.</summary>
    public async Task<string> Everything()
    {
        var all = new StringBuilder();
        foreach (var resource in BuiltIn.All.Where(r => r.Verbs.Contains("list")))
        {
            var prefix = resource.Group.Length == 0 ? "/api/v1" : $"/apis/{resource.Group}/{resource.Version}";
            var list = JsonNode.Parse(await Server.Client.GetStringAsync($"{prefix}/{resource.Resource}"))!;
            all.Append(resource.Resource).Append(": ").AppendLine(list["items"]!.ToJsonString());
        }
        return all.ToString();
    }
}

/// <summary>
/// Malformed and hostile requests (<see cref="BadInputCases"/>): each gets its 4xx Status with the right code and
/// reason (and field cause for 422), and the store holds exactly what it held before.
/// </summary>
public sealed class BadInputTests(BadInputFixture fixture) : IClassFixture<BadInputFixture>
{
    [Fact]
    public void The_catalogue_has_at_least_fifty_cases() => Assert.True(BadInputCases.All.Count >= 50);

    [Theory]
    [MemberData(nameof(BadInputCases.Names), MemberType = typeof(BadInputCases))]
    public async Task Is_refused_with_its_status_and_changes_nothing(string name)
    {
        var input = BadInputCases.All[name];
        var before = await fixture.Everything();

        using var request = new HttpRequestMessage(new HttpMethod(input.Method), input.Path);
        if (input.Bytes is not null || input.Body is not null)
        {
            request.Content = new ByteArrayContent(input.Bytes ?? Encoding.UTF8.GetBytes(input.Body!));
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(input.ContentType);
        }
        request.Headers.Authorization = input.Auth switch
        {
            Auth.None => null,
            Auth.WrongToken => new AuthenticationHeaderValue("Bearer", "not-the-token"),
            Auth.Basic => new AuthenticationHeaderValue("Basic", Convert.ToBase64String("admin:admin"u8.ToArray())),
            _ => fixture.Server.Client.DefaultRequestHeaders.Authorization,
        };
        // A client without default headers, so that the case alone decides the Authorization header.
        using var client = fixture.Server.App.GetTestClient();
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode == input.Code, $"{(int)response.StatusCode}: {text}");
        var status = JsonNode.Parse(text)!;
        Assert.Equal("Status", status["kind"]?.ToString());
        Assert.Equal("Failure", status["status"]?.ToString());
        Assert.Equal(input.Code, status["code"]!.GetValue<int>());
        Assert.True(input.Reason == status["reason"]?.ToString(), text);
        if (input.Field is not null)
        {
            var fields = status["details"]?["causes"]?.AsArray().Select(c => c!["field"]?.ToString()).ToList() ?? [];
            Assert.True(fields.Contains(input.Field), $"no cause for {input.Field}: {text}");
        }
        Assert.Equal(before, await fixture.Everything());
    }
}
