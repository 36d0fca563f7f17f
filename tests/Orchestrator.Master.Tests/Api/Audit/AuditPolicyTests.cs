using System.Text;
using Orchestrator.Master.Api.Audit;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Audit;

/// <summary>Audit policy files and kube's rule matching: the first matching rule decides the level.</summary>
public sealed class AuditPolicyTests
{
    private const string Policy = """
        apiVersion: audit.k8s.io/v1
        kind: Policy
        omitStages: ["RequestReceived"]
        rules:
        - level: None
          users: ["system:kube-proxy"]
        - level: None
          nonResourceURLs: ["/healthz*", "/version"]
        - level: Metadata
          resources:
          - group: ""
            resources: ["secrets", "configmaps"]
        - level: Request
          userGroups: ["system:nodes"]
          verbs: ["update", "patch"]
          resources:
          - group: ""
            resources: ["nodes/status", "pods/status"]
          omitStages: []
        - level: RequestResponse
          resources:
          - group: "apps"
            resources: ["deployments/*"]
        - level: RequestResponse
          namespaces: ["audited"]
        - level: Request
          resources:
          - group: ""
            resources: ["pods"]
            resourceNames: ["special"]
          - group: ""
            resources: ["*/log"]
        - level: Metadata
          omitManagedFields: true
        """;

    private static readonly AuditPolicy Parsed = AuditPolicy.Parse(Encoding.UTF8.GetBytes(Policy));

    private static AuditRequest Resource(string verb, string group, string resource, string ns = "default", string name = "",
        string subresource = "", string user = "alice", params string[] groups) =>
        new(user, groups, verb, true, "/x", group, resource, subresource, ns, name);

    private static readonly Dictionary<string, (AuditRequest Request, AuditLevel Level)> Cases = new()
    {
        ["a user rule wins first"] = (Resource("get", "", "secrets", user: "system:kube-proxy"), AuditLevel.None),
        ["non-resource prefix"] = (new AuditRequest("alice", [], "get", false, "/healthz/ready", "", "", "", "", ""), AuditLevel.None),
        ["non-resource exact"] = (new AuditRequest("alice", [], "get", false, "/version", "", "", "", "", ""), AuditLevel.None),
        ["secrets at metadata"] = (Resource("get", "", "secrets", name: "db"), AuditLevel.Metadata),
        ["a subresource needs its own entry"] = (Resource("update", "", "nodes", subresource: "status", ns: "", groups: "system:nodes"), AuditLevel.Request),
        ["group and verb both needed"] = (Resource("get", "", "nodes", subresource: "status", ns: "", groups: "system:nodes"), AuditLevel.Metadata),
        ["resource/* matches subresources"] = (Resource("update", "apps", "deployments", subresource: "scale"), AuditLevel.RequestResponse),
        ["resource/* matches the resource itself too, as kube's TrimRight does"] = (Resource("update", "apps", "deployments"), AuditLevel.RequestResponse),
        ["namespaces"] = (Resource("create", "batch", "jobs", ns: "audited"), AuditLevel.RequestResponse),
        ["resourceNames"] = (Resource("delete", "", "pods", name: "special"), AuditLevel.Request),
        ["other names"] = (Resource("delete", "", "pods", name: "plain"), AuditLevel.Metadata),
        ["*/subresource"] = (Resource("get", "", "pods", name: "plain", subresource: "log"), AuditLevel.Request),
        ["catch-all"] = (new AuditRequest("alice", [], "get", false, "/metrics", "", "", "", "", ""), AuditLevel.Metadata),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Rules_match_as_kube_matches_them(string why)
    {
        var (request, expected) = Cases[why];
        Assert.Equal(expected, Parsed.Decide(request).Level);
    }

    [Fact]
    public void Stages_and_managed_fields_come_from_the_policy_and_the_rule()
    {
        Assert.Contains("RequestReceived", Parsed.Decide(Resource("get", "", "secrets")).OmitStages);
        Assert.False(Parsed.Decide(Resource("get", "", "secrets")).OmitManagedFields);
        Assert.True(Parsed.Decide(new AuditRequest("alice", [], "get", false, "/metrics", "", "", "", "", "")).OmitManagedFields);
    }

    [Theory]
    [InlineData("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n", "loaded illegal policy with 0 rules")]
    [InlineData("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Everything\n",
        "rules[0].level: Unsupported value: \"Everything\": supported values: \"None\", \"Metadata\", \"Request\", \"RequestResponse\"")]
    [InlineData("apiVersion: v1\nkind: ConfigMap\n", "expected apiVersion audit.k8s.io/v1 and kind Policy, found v1 ConfigMap")]
    [InlineData("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Done]\nrules:\n- level: None\n",
        "omitStages: Unsupported value: \"Done\": supported values: \"RequestReceived\", \"ResponseStarted\", \"ResponseComplete\", \"Panic\"")]
    [InlineData("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  namespaces: [a]\n  nonResourceURLs: [/x]\n",
        "rules[0].nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs")]
    public void Bad_policies_are_refused_with_one_line(string yaml, string message)
    {
        var e = Assert.Throws<FormatException>(() => AuditPolicy.Parse(Encoding.UTF8.GetBytes(yaml)));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void A_missing_file_names_the_flag()
    {
        var e = Assert.Throws<FormatException>(() => AuditPolicy.Load("/nonexistent/policy.yaml"));
        Assert.StartsWith("--audit-policy-file /nonexistent/policy.yaml: ", e.Message);
    }
}
