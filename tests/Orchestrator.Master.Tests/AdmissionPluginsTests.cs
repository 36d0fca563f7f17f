using Microsoft.Extensions.Configuration;
using Orchestrator.Master.Admission.ServiceAccount;
using Orchestrator.Master.Registry;
using Xunit;

namespace Orchestrator.Master.Tests;

/// <summary>--enable-admission-plugins and --disable-admission-plugins over kube 1.32's plugin names.</summary>
public sealed class AdmissionPluginsTests
{
    private static readonly IConfiguration NoConfiguration = new ConfigurationBuilder().Build();

    [Fact]
    public void By_default_every_plugin_implemented_here_runs_in_kubes_order()
    {
        var chain = AdmissionPlugins.Default.StoreChain(NoConfiguration, RegistryHosting.BuiltInCatalog());
        Assert.Equal(["LimitRanger", "ServiceAccountAdmission", "TaintNodesByCondition", "PodPriority",
                "DefaultTolerationSeconds",
                "PodSecurityAdmission", "PersistentVolumeClaimResize", "IngressAnnotationWarnings", "PodSpecWarnings",
                "ValidatingAdmissionPolicyAdmission", "ResourceQuotaAdmission"],
            chain.Select(p => p.GetType().Name));
        Assert.True(AdmissionPlugins.Default.IsOn("NodeRestriction"));
    }

    [Fact]
    public void A_disabled_plugin_is_left_out_of_the_chain()
    {
        var plugins = AdmissionPlugins.Parse("NodeRestriction",
            "ServiceAccount,TaintNodesByCondition,Priority,ResourceQuota");
        var chain = plugins.StoreChain(NoConfiguration, RegistryHosting.BuiltInCatalog());
        Assert.DoesNotContain(chain, p => p is ServiceAccountAdmission);
        Assert.Equal(["LimitRanger", "DefaultTolerationSeconds", "PodSecurityAdmission", "PersistentVolumeClaimResize",
                "IngressAnnotationWarnings", "PodSpecWarnings", "ValidatingAdmissionPolicyAdmission"],
            chain.Select(p => p.GetType().Name));
        Assert.True(plugins.IsOn("NodeRestriction"));
        Assert.False(AdmissionPlugins.Parse(null, "NodeRestriction").IsOn("NodeRestriction"));
    }

    [Fact]
    public void Disabling_a_plugin_not_implemented_here_is_accepted_as_it_is_off()
    {
        var plugins = AdmissionPlugins.Parse("", "ClusterTrustBundleAttest,AlwaysPullImages");
        Assert.Equal(11, plugins.StoreChain(NoConfiguration, RegistryHosting.BuiltInCatalog()).Count);
    }

    [Theory]
    [InlineData("Bogus", null, "enable-admission-plugins plugin \"Bogus\" is unknown")]
    [InlineData(null, "serviceaccount", "disable-admission-plugins plugin \"serviceaccount\" is unknown")]
    [InlineData("AlwaysPullImages", null,
        "enable-admission-plugins plugin \"AlwaysPullImages\" is not implemented by orchestrator-master")]
    [InlineData(null, "NamespaceLifecycle",
        "disable-admission-plugins plugin \"NamespaceLifecycle\" cannot be turned off here")]
    [InlineData(null, "ValidatingAdmissionWebhook",
        "disable-admission-plugins plugin \"ValidatingAdmissionWebhook\" cannot be turned off here")]
    [InlineData("ServiceAccount,Priority", "Priority,ServiceAccount,LimitRanger",
        "[Priority ServiceAccount] in enable-admission-plugins and disable-admission-plugins overlapped")]
    public void Unknown_unimplemented_built_in_and_overlapping_plugins_are_refused(string? enable, string? disable,
        string problem)
    {
        var e = Assert.Throws<FormatException>(() => AdmissionPlugins.Parse(enable, disable));
        Assert.StartsWith(problem, e.Message);
        if (!problem.Contains("overlapped"))
            Assert.StartsWith(problem[(problem.IndexOf(' ') + 1)..],
                enable is not null
                    ? AdmissionPlugins.EnableProblem(enable)
                    : AdmissionPlugins.DisableProblem(disable!));
    }

    [Fact]
    public void Every_name_kube_knows_is_separable_built_in_or_not_implemented()
    {
        Assert.Equal(35, AdmissionPlugins.KubeOrder.Count);
        Assert.Empty(AdmissionPlugins.Separable.Except(AdmissionPlugins.KubeOrder));
        Assert.Empty(AdmissionPlugins.BuiltIn.Keys.Except(AdmissionPlugins.KubeOrder));
        Assert.Empty(AdmissionPlugins.Separable.Intersect(AdmissionPlugins.BuiltIn.Keys));
    }
}
