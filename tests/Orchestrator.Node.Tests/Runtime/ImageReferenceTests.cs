using System.Text;
using k8s.Models;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Tests.Runtime;

public sealed class ImageReferenceTests
{
    [Theory]
    [InlineData("nginx", "docker.io", "library/nginx", null, null, "nginx:latest")]
    [InlineData("nginx:1.25", "docker.io", "library/nginx", "1.25", null, "nginx:1.25")]
    [InlineData("user/app:v2", "docker.io", "user/app", "v2", null, "user/app:v2")]
    [InlineData("docker.io/library/busybox:1.36", "docker.io", "library/busybox", "1.36", null, "busybox:1.36")]
    [InlineData("127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", null, null, "127.0.0.1:5000/team/app:latest")]
    [InlineData("localhost/app:1", "localhost", "app", "1", null, "localhost/app:1")]
    [InlineData("registry.k8s.io/pause:3.9", "registry.k8s.io", "pause", "3.9", null, "registry.k8s.io/pause:3.9")]
    public void Names_are_read_as_Docker_reads_them(string image, string domain, string path, string? tag, string? digest, string normalized)
    {
        var reference = ImageReference.TryParse(image, out _)!;
        Assert.Equal((domain, path, tag, digest), (reference.Domain, reference.Path, reference.Tag, reference.Digest));
        Assert.Equal(normalized, reference.Normalized);
    }

    [Fact]
    public void A_digest_is_pulled_by_digest_and_wins_over_the_tag()
    {
        var digest = "sha256:" + new string('a', 64);
        var reference = ImageReference.TryParse($"127.0.0.1:5000/app:v1@{digest}", out _)!;
        Assert.Equal(digest, reference.Digest);
        Assert.Equal(digest, reference.PullTag);
        Assert.Equal($"127.0.0.1:5000/app@{digest}", reference.Normalized);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Nginx")]
    [InlineData("nginx:")]
    [InlineData("nginx@sha256:abc")]
    [InlineData("-nginx")]
    [InlineData("a b")]
    public void Bad_names_are_refused_with_the_kubelets_message(string image)
    {
        Assert.Null(ImageReference.TryParse(image, out var error));
        Assert.Equal($"couldn't parse image name \"{image}\": invalid reference format", error);
    }

    [Theory]
    [InlineData("nginx", "Always")]
    [InlineData("nginx:latest", "Always")]
    [InlineData("127.0.0.1:5000/app", "Always")]
    [InlineData("nginx:1.25", "IfNotPresent")]
    [InlineData("127.0.0.1:5000/app:v1", "IfNotPresent")]
    [InlineData("nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000", "IfNotPresent")]
    public void The_pull_policy_defaults_as_in_Kubernetes(string image, string policy)
    {
        Assert.Equal(policy, ImagePullPolicies.DefaultFor(image));
        Assert.Equal("Never", ImagePullPolicies.Effective(image, "Never"));
    }

    [Fact]
    public void The_status_image_id_names_the_registry_digest_of_the_pods_repository()
    {
        var image = new LocalImage("sha256:1", 10, ["other/app@sha256:0", "127.0.0.1:5000/app@sha256:2"]);
        Assert.Equal("docker-pullable://127.0.0.1:5000/app@sha256:2", image.StatusImageId(ImageReference.TryParse("127.0.0.1:5000/app:v1", out _)));
        Assert.Equal("docker://sha256:1", new LocalImage("sha256:1", 10, []).StatusImageId(null));
    }

    [Theory]
    [InlineData(523, "523ms")]
    [InlineData(1200, "1.2s")]
    [InlineData(65250, "1m5.25s")]
    public void Durations_read_as_the_kubelet_writes_them(int milliseconds, string text) =>
        Assert.Equal(text, ImagePuller.GoDuration(TimeSpan.FromMilliseconds(milliseconds)));
}

public sealed class RegistryCredentialsTests
{
    private static V1Secret DockerConfigJson(string json) => new()
    {
        Type = RegistryCredentials.DockerConfigJsonType,
        Data = new Dictionary<string, byte[]> { [".dockerconfigjson"] = Encoding.UTF8.GetBytes(json) },
    };

    private static string Auth(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    [Fact]
    public void A_dockerconfigjson_secret_gives_the_credentials_of_the_images_registry()
    {
        var secret = DockerConfigJson("""{"auths":{"127.0.0.1:5000":{"auth":"AUTH"},"other.example":{"username":"bob","password":"x"}}}""".Replace("AUTH", Auth("alice", "pa:ss")));
        var auth = Assert.Single(RegistryCredentials.For(ImageReference.TryParse("127.0.0.1:5000/app:v1", out _)!, [secret]));
        Assert.Equal(new RegistryAuth("127.0.0.1:5000", "alice", "pa:ss"), auth);
        Assert.DoesNotContain("pa:ss", auth.ToString());
    }

    [Fact]
    public void A_dockercfg_secret_and_Docker_Hub_keys_are_understood()
    {
        var secret = new V1Secret
        {
            Type = RegistryCredentials.DockerCfgType,
            Data = new Dictionary<string, byte[]> { [".dockercfg"] = Encoding.UTF8.GetBytes("""{"https://index.docker.io/v1/":{"username":"u","password":"p"}}""") },
        };
        var auth = Assert.Single(RegistryCredentials.For(ImageReference.TryParse("nginx", out _)!, [secret]));
        Assert.Equal(("docker.io", "u", "p"), (auth.ServerAddress, auth.Username, auth.Password));
    }

    [Theory]
    [InlineData("127.0.0.1:5000", "127.0.0.1:5000/team/app", true)]
    [InlineData("127.0.0.1:5000/team", "127.0.0.1:5000/team/app", true)]
    [InlineData("127.0.0.1:5000/tea", "127.0.0.1:5000/team/app", false)]
    [InlineData("127.0.0.1", "127.0.0.1:5000/app", false)]
    [InlineData("*.example.com", "registry.example.com/app", true)]
    [InlineData("*.example.com", "a.b.example.com/app", false)]
    [InlineData("https://registry.example.com/", "registry.example.com/app", true)]
    public void Keys_match_host_port_and_path_prefix(string key, string image, bool matches) =>
        Assert.Equal(matches, RegistryCredentials.Matches(key, ImageReference.TryParse(image, out _)!));

    [Fact]
    public void The_most_specific_key_comes_first_and_other_secret_types_count_for_nothing()
    {
        var secret = DockerConfigJson("""{"auths":{"127.0.0.1:5000":{"username":"wide","password":"1"},"127.0.0.1:5000/team":{"username":"narrow","password":"2"}}}""");
        var opaque = new V1Secret { Type = "Opaque", Data = new Dictionary<string, byte[]> { [".dockerconfigjson"] = secret.Data[".dockerconfigjson"] } };
        var broken = DockerConfigJson("{not json");
        var auths = RegistryCredentials.For(ImageReference.TryParse("127.0.0.1:5000/team/app", out _)!, [secret, opaque, broken]);
        Assert.Equal(["narrow", "wide"], auths.Select(a => a.Username));
    }
}
