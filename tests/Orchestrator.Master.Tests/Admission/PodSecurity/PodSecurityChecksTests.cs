using k8s;
using k8s.Models;
using Orchestrator.Master.Admission.PodSecurity;
using Xunit;

namespace Orchestrator.Master.Tests.Admission.PodSecurity;

/// <summary>Every check of the baseline and restricted profiles: a pod spec and the ForbiddenDetail kube 1.32 prints.</summary>
public sealed class PodSecurityChecksTests
{
    /// <summary>A container that passes every restricted check, for the cases that change one field.</summary>
    private const string Good = """
        "securityContext":{"allowPrivilegeEscalation":false,"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"},"capabilities":{"drop":["ALL"]}}
        """;

    private static V1Pod Pod(string specJson, string metadataJson = """{"name":"p"}""") =>
        KubernetesJson.Deserialize<V1Pod>("{\"metadata\":" + metadataJson + ",\"spec\":" + specJson + "}");

    private static string Detail(string level, string specJson, string version = "latest", string metadataJson = """{"name":"p"}""")
    {
        var (policy, errors) = PodSecurityLabels.PolicyOf(
            new Dictionary<string, string> { [PodSecurityLabels.Enforce] = level, [PodSecurityLabels.EnforceVersion] = version },
            NamespacePolicy.Privileged);
        Assert.Empty(errors);
        var pod = Pod(specJson, metadataJson);
        return PodSecurityEvaluator.Evaluate(policy.Enforce, pod.Metadata, pod.Spec).ForbiddenDetail;
    }

    public static TheoryData<string, string, string> Baseline => new()
    {
        { "hostProcess", """{"securityContext":{"windowsOptions":{"hostProcess":true}},"containers":[{"name":"c","securityContext":{"windowsOptions":{"hostProcess":true}}}]}""",
          "hostProcess (pod and container \"c\" must not set securityContext.windowsOptions.hostProcess=true)" },
        { "host namespaces", """{"hostNetwork":true,"hostPID":true,"hostIPC":true,"containers":[{"name":"c"}]}""",
          "host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)" },
        { "privileged", """{"containers":[{"name":"a","securityContext":{"privileged":true}},{"name":"b","securityContext":{"privileged":true}}]}""",
          "privileged (containers \"a\", \"b\" must not set securityContext.privileged=true)" },
        { "capabilities", """{"containers":[{"name":"c","securityContext":{"capabilities":{"add":["SYS_ADMIN","CHOWN","NET_RAW"]}}}]}""",
          "non-default capabilities (container \"c\" must not include \"NET_RAW\", \"SYS_ADMIN\" in securityContext.capabilities.add)" },
        { "hostPath", """{"volumes":[{"name":"root","hostPath":{"path":"/"}},{"name":"tmp","emptyDir":{}}],"containers":[{"name":"c"}]}""",
          "hostPath volumes (volume \"root\")" },
        { "host ports", """{"containers":[{"name":"c","ports":[{"containerPort":80,"hostPort":8080},{"containerPort":90,"hostPort":9090}]}]}""",
          "hostPort (container \"c\" uses hostPorts 8080, 9090)" },
        { "AppArmor", """{"securityContext":{"appArmorProfile":{"type":"Unconfined"}},"containers":[{"name":"c","securityContext":{"appArmorProfile":{"type":"Localhost","localhostProfile":"x"}}}]}""",
          "forbidden AppArmor profile (pod must not set AppArmor profile type to \"Unconfined\")" },
        { "SELinux", """{"containers":[{"name":"c","securityContext":{"seLinuxOptions":{"type":"spc_t","user":"root"}}}]}""",
          "seLinuxOptions (container \"c\" set forbidden securityContext.seLinuxOptions: type \"spc_t\"; user may not be set)" },
        { "procMount", """{"containers":[{"name":"c","securityContext":{"procMount":"Unmasked"}}]}""",
          "procMount (container \"c\" must not set securityContext.procMount to \"Unmasked\")" },
        { "seccomp", """{"containers":[{"name":"c","securityContext":{"seccompProfile":{"type":"Unconfined"}}}]}""",
          "seccompProfile (container \"c\" must not set securityContext.seccompProfile.type to \"Unconfined\")" },
        { "sysctls", """{"securityContext":{"sysctls":[{"name":"kernel.msgmax","value":"1"},{"name":"net.ipv4.tcp_rmem","value":"4096 87380 6291456"}]},"containers":[{"name":"c"}]}""",
          "forbidden sysctls (kernel.msgmax)" },
    };

    [Theory]
    [MemberData(nameof(Baseline))]
    public void Baseline_checks_name_what_they_forbid(string check, string spec, string expected)
    {
        Assert.True(check.Length > 0);
        Assert.Equal(expected, Detail("baseline", spec));
    }

    public static TheoryData<string, string, string> Restricted => new()
    {
        { "privilege escalation", """{"containers":[{"name":"c","securityContext":{"allowPrivilegeEscalation":true,"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"},"capabilities":{"drop":["ALL"]}}}]}""",
          "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false)" },
        { "capabilities", """{"containers":[{"name":"c","securityContext":{"allowPrivilegeEscalation":false,"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"},"capabilities":{"drop":["NET_RAW"],"add":["NET_BIND_SERVICE","CHOWN"]}}}]}""",
          "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]; container \"c\" must not include \"CHOWN\" in securityContext.capabilities.add)" },
        { "volume types", """{"volumes":[{"name":"nfs","nfs":{"server":"s","path":"/"}},{"name":"host","hostPath":{"path":"/"}},{"name":"cm","configMap":{"name":"x"}}],"containers":[{"name":"c",""" + Good + """}]}""",
          "restricted volume types (volumes \"nfs\", \"host\" use restricted volume types \"hostPath\", \"nfs\")" },
        { "runAsNonRoot", """{"securityContext":{"runAsNonRoot":false,"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"c","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}""",
          "runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)" },
        { "runAsUser 0", """{"securityContext":{"runAsUser":0},"containers":[{"name":"c",""" + Good + """}]}""",
          "runAsUser=0 (pod must not set runAsUser=0)" },
        { "seccomp unset", """{"containers":[{"name":"c","securityContext":{"allowPrivilegeEscalation":false,"runAsNonRoot":true,"capabilities":{"drop":["ALL"]}}}]}""",
          "seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")" },
        { "nothing set", """{"containers":[{"name":"c"}]}""",
          "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), " +
          "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), " +
          "runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), " +
          "seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")" },
        { "compliant", """{"containers":[{"name":"c",""" + Good + """}]}""", "" },
        { "NET_BIND_SERVICE only", """{"containers":[{"name":"c","securityContext":{"allowPrivilegeEscalation":false,"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"},"capabilities":{"drop":["ALL"],"add":["NET_BIND_SERVICE"]}}}]}""",
          "" },
        { "Windows pods skip Linux checks", """{"os":{"name":"windows"},"securityContext":{"runAsNonRoot":true},"containers":[{"name":"c"}]}""", "" },
    };

    [Theory]
    [MemberData(nameof(Restricted))]
    public void Restricted_checks_name_what_they_forbid(string check, string spec, string expected)
    {
        Assert.True(check.Length > 0);
        Assert.Equal(expected, Detail("restricted", spec));
    }

    [Fact]
    public void Restricted_lists_baseline_reasons_first_and_replaces_the_hostPath_check_with_volume_types()
    {
        var detail = Detail("restricted", """
            {"volumes":[{"name":"root","hostPath":{"path":"/"}}],"containers":[{"name":"c","securityContext":{"privileged":true,"runAsUser":0}}]}
            """);
        Assert.Equal(
            "privileged (container \"c\" must not set securityContext.privileged=true), " +
            "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), " +
            "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), " +
            "restricted volume types (volume \"root\" uses restricted volume type \"hostPath\"), " +
            "runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), " +
            "runAsUser=0 (container \"c\" must not set runAsUser=0), " +
            "seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
            detail);
    }

    [Fact]
    public void Init_and_ephemeral_containers_are_checked_too()
    {
        Assert.Equal("privileged (containers \"init\", \"debug\" must not set securityContext.privileged=true)", Detail("baseline", """
            {"initContainers":[{"name":"init","securityContext":{"privileged":true}}],"containers":[{"name":"c"}],
             "ephemeralContainers":[{"name":"debug","securityContext":{"privileged":true}}]}
            """));
    }

    [Fact]
    public void Older_policy_versions_apply_the_checks_of_their_time()
    {
        // runAsUser=0 is a restricted check from v1.23 on; tcp_rmem is a safe sysctl from v1.32 on.
        const string rootUser = """{"securityContext":{"runAsUser":0},"containers":[{"name":"c",""" + Good + """}]}""";
        Assert.Equal("", Detail("restricted", rootUser, "v1.22"));
        Assert.Equal("runAsUser=0 (pod must not set runAsUser=0)", Detail("restricted", rootUser, "v1.23"));
        const string rmem = """{"securityContext":{"sysctls":[{"name":"net.ipv4.tcp_rmem","value":"1 2 3"}]},"containers":[{"name":"c"}]}""";
        Assert.Equal("forbidden sysctls (net.ipv4.tcp_rmem)", Detail("baseline", rmem, "v1.31"));
        Assert.Equal("", Detail("baseline", rmem, "v1.32"));
        // A version past this server's is evaluated as its newest (1.32).
        Assert.Equal("", Detail("baseline", rmem, "v1.40"));
    }

    [Fact]
    public void Policy_v1_18_reads_seccomp_from_the_alpha_annotations()
    {
        Assert.Equal("seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod=\"unconfined\")",
            Detail("baseline", """{"containers":[{"name":"c"}]}""", "v1.18",
                """{"name":"p","annotations":{"seccomp.security.alpha.kubernetes.io/pod":"unconfined"}}"""));
    }

    [Fact]
    public void Privileged_evaluates_nothing()
    {
        Assert.Equal("", Detail("privileged", """{"hostNetwork":true,"containers":[{"name":"c","securityContext":{"privileged":true}}]}"""));
    }
}
