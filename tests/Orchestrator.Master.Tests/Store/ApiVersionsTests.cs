using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

public sealed class ApiVersionsTests
{
    [Theory]
    [InlineData("v1", "", "v1")]
    [InlineData("apps/v1", "apps", "v1")]
    [InlineData("", "", "")]
    [InlineData(null, "", "")]
    [InlineData("/", "", "")]
    [InlineData("apps/", "apps", "")]
    public void Splits_as_ParseGroupVersion(string? apiVersion, string group, string version)
    {
        Assert.Equal((group, version), ApiVersions.Parse(apiVersion));
        Assert.Equal((group, version), ApiVersions.GroupVersionOf(apiVersion));
    }

    [Fact]
    public void More_than_one_slash_is_no_group_version()
    {
        Assert.Null(ApiVersions.Parse("a/b/v1"));
        Assert.Equal(("", ""), ApiVersions.GroupVersionOf("a/b/v1")); // FromAPIVersionAndKind's reading
    }
}
