using System.Net;
using System.Text;
using Orchestrator.Master.Admission.PodSecurity;
using Orchestrator.Master.Tests.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Admission.PodSecurity;

/// <summary>--admission-control-config-file with the PodSecurity plugin's PodSecurityConfiguration: the file read and
/// validated as kube reads it, and the defaults and exemptions applied as kube's PodSecurity admission applies them.</summary>
public sealed class PodSecurityConfigurationTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("admission-config-").FullName;
    private ApiTestServer? _server;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private const string Configuration = """
        apiVersion: pod-security.admission.config.k8s.io/v1
        kind: PodSecurityConfiguration
        defaults:
          enforce: restricted
          enforce-version: v1.30
          warn: baseline
        exemptions:
          usernames: [ci-bot]
          runtimeClasses: [kata]
          namespaces: [kube-system, tools]
        """;

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Inline(string configuration) =>
        "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  configuration:\n" +
        string.Join("\n", configuration.Split('\n').Select(l => "    " + l)) + "\n";

    [Fact]
    public void Defaults_and_exemptions_are_read_with_kubes_defaults_for_what_is_unset()
    {
        var options = AdmissionConfigurationFile.Load(Write("admission.yaml", Inline(Configuration)));

        Assert.Equal("restricted:v1.30", options.Defaults.Enforce.ToString());
        Assert.Equal("baseline:latest", options.Defaults.Warn.ToString());
        Assert.Equal("privileged:latest", options.Defaults.Audit.ToString());
        Assert.Equal(["ci-bot"], options.ExemptUsernames);
        Assert.Equal(["kata"], options.ExemptRuntimeClasses);
        Assert.Equal(["kube-system", "tools"], options.ExemptNamespaces.Order());
    }

    [Fact]
    public void The_plugin_configuration_may_be_a_file_of_its_own_relative_to_the_admission_configuration()
    {
        Write("pod-security.yaml", Configuration);
        var options = AdmissionConfigurationFile.Load(Write("admission.yaml",
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  path: pod-security.yaml\n"));
        Assert.Equal("restricted:v1.30", options.Defaults.Enforce.ToString());
    }

    [Theory]
    [InlineData("defaults: { audit: strict, warn-version: v1.030 }",
        "[defaults.warn-version: Invalid value: \"v1.030\": must be \"latest\" or \"v1.x\", defaults.audit: Invalid value: \"strict\": must be one of privileged, baseline, restricted]")]
    [InlineData("exemptions: { namespaces: [Tools] }",
        "exemptions.namespaces[0]: Invalid value: \"Tools\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")]
    [InlineData("exemptions: { usernames: [a, a] }", "exemptions.usernames[1]: Duplicate value: \"a\"")]
    [InlineData("exemptions: { usernames: [\"\"] }", "exemptions.usernames[0]: Required value")]
    public void A_bad_configuration_is_one_line_naming_the_field(string body, string expected)
    {
        var path = Write("admission.yaml", Inline("apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\n" + body));
        var error = Assert.Throws<FormatException>(() => AdmissionConfigurationFile.Load(path));
        Assert.Equal($"--admission-control-config-file {path}: PodSecurity: invalid PodSecurityConfiguration: {expected}", error.Message);
    }

    [Fact]
    public void Another_plugins_configuration_and_a_missing_file_are_refused()
    {
        var path = Write("admission.yaml", "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: EventRateLimit\n  path: limits.yaml\n");
        Assert.Equal($"--admission-control-config-file {path}: plugins[0]: the admission plugin \"EventRateLimit\" takes no configuration here (only PodSecurity does)",
            Assert.Throws<FormatException>(() => AdmissionConfigurationFile.Load(path)).Message);
        Assert.StartsWith("--admission-control-config-file /nonexistent/admission.yaml: ",
            Assert.Throws<FormatException>(() => AdmissionConfigurationFile.Load("/nonexistent/admission.yaml")).Message);
    }

    private const string RootPod = """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"NAME"},"spec":RUNTIME"containers":[{"name":"c","image":"i","securityContext":{"privileged":true}}]}}
        """;

    private static string Pod(string name, string? runtimeClass = null) =>
        RootPod.Replace("NAME", name).Replace("RUNTIME", runtimeClass is null ? "{" : $"{{\"runtimeClassName\":\"{runtimeClass}\",");

    private async Task<(HttpStatusCode Status, string Body, string[] Warnings)> CreatePodAsync(string ns, string body, string? impersonate = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/namespaces/{ns}/pods") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (impersonate is not null)
        {
            request.Headers.Add("Impersonate-User", impersonate);
            request.Headers.Add("Impersonate-Group", "system:masters");
        }
        using var response = await _server!.Client.SendAsync(request);
        var warnings = response.Headers.TryGetValues("Warning", out var values) ? values.ToArray() : [];
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), warnings);
    }

    private async Task NamespaceAsync(string name, string labels = "")
    {
        var (status, body) = await _server!.SendAsync(HttpMethod.Post, "/api/v1/namespaces",
            "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + name + "\",\"labels\":{" + labels + "}}}");
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
    }

    [Fact]
    public async Task Unlabelled_namespaces_take_the_defaults_labels_override_them_and_exempt_requests_are_not_checked()
    {
        _server = await ApiTestServer.StartAsync(podSecurity: AdmissionConfigurationFile.Load(Write("admission.yaml", Inline(Configuration))));
        await NamespaceAsync("plain");
        await NamespaceAsync("open", "\"pod-security.kubernetes.io/enforce\":\"privileged\",\"pod-security.kubernetes.io/warn\":\"privileged\"");
        await NamespaceAsync("tools");
        var (runtimeClass, runtimeClassBody) = await _server.SendAsync(HttpMethod.Post, "/apis/node.k8s.io/v1/runtimeclasses",
            """{"apiVersion":"node.k8s.io/v1","kind":"RuntimeClass","metadata":{"name":"kata"},"handler":"runc"}""");
        Assert.True(runtimeClass == HttpStatusCode.Created, runtimeClassBody?.ToJsonString());

        var (refused, body, _) = await CreatePodAsync("plain", Pod("root"));
        Assert.Equal(HttpStatusCode.Forbidden, refused);
        Assert.Contains("violates PodSecurity \\\"restricted:v1.30\\\": privileged", body);

        var (labelled, labelledBody, warnings) = await CreatePodAsync("open", Pod("root"));
        Assert.True(labelled == HttpStatusCode.Created, labelledBody);
        Assert.Empty(warnings);

        Assert.Equal(HttpStatusCode.Created, (await CreatePodAsync("tools", Pod("root"))).Status);
        var (kata, kataBody, _) = await CreatePodAsync("plain", Pod("kata-root", runtimeClass: "kata"));
        Assert.True(kata == HttpStatusCode.Created, kataBody);
        var (exemptUser, exemptBody, _) = await CreatePodAsync("plain", Pod("bot-root"), impersonate: "ci-bot");
        Assert.True(exemptUser == HttpStatusCode.Created, exemptBody);
        Assert.Equal(HttpStatusCode.Forbidden, (await CreatePodAsync("plain", Pod("alice-root"), impersonate: "alice")).Status);
    }
}
