using System.Text;
using Orchestrator.Master.Registry;
using System.Security.Cryptography;
using Orchestrator.Master.Store.Encryption;
using Xunit;

namespace Orchestrator.Master.Tests.Store.Encryption;

public class EncryptionConfigurationTests
{
    private static readonly string Key32 = Convert.ToBase64String(new byte[32]);

    private static string Config(string providers, string resources = "[secrets]") => $"""
        apiVersion: apiserver.config.k8s.io/v1
        kind: EncryptionConfiguration
        resources:
          - resources: {resources}
            providers:
        {providers}
        """;

    private static string AesGcm(params string[] names) =>
        "      - aesgcm:\n          keys:\n" + string.Concat(names.Select(n => $"            - name: {n}\n              secret: {Key32}\n"));

    private static StorageTransformer Transformer(string yaml) =>
        new(EncryptionConfiguration.Parse(yaml), RegistryHosting.BuiltInCatalog() is var catalog ? n => (catalog.Find(n)!.Group, catalog.Find(n)!.Resource) : null!);

    [Fact]
    public void The_first_provider_writes_and_every_provider_reads()
    {
        var transformer = Transformer(Config(AesGcm("k1") + "      - identity: {}\n"));
        var stored = transformer.ToStorage("secrets", "{\"a\":1}");
        Assert.StartsWith("k8s:enc:aesgcm:v1:k1:", stored);
        Assert.Equal("{\"a\":1}", transformer.FromStorage("secrets", stored, out var stale));
        Assert.False(stale);
        Assert.Equal("{\"b\":2}", transformer.FromStorage("secrets", "{\"b\":2}", out stale));
        Assert.True(stale); // read by identity, the second provider: to be rewritten
        Assert.Equal("{\"c\":3}", transformer.ToStorage("configmaps", "{\"c\":3}"));
    }

    [Fact]
    public void A_value_with_changed_bytes_or_an_unlisted_key_is_not_read()
    {
        var transformer = Transformer(Config(AesGcm("k1")));
        var stored = transformer.ToStorage("secrets", "{\"a\":1}");
        var bytes = Convert.FromBase64String(stored["k8s:enc:aesgcm:v1:k1:".Length..]);
        bytes[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() =>
            transformer.FromStorage("secrets", "k8s:enc:aesgcm:v1:k1:" + Convert.ToBase64String(bytes), out _));
        Assert.Throws<NoProviderException>(() => Transformer(Config(AesGcm("k2"))).FromStorage("secrets", stored, out _));
        // Without identity listed, plain JSON is not accepted either (kube-apiserver's rule).
        Assert.Throws<NoProviderException>(() => transformer.FromStorage("secrets", "{\"a\":1}", out _));
    }

    [Fact]
    public void Wildcards_cover_groups_as_in_kube_apiserver()
    {
        Assert.True(Transformer(Config(AesGcm("k"), "[\"*.apps\"]")).IsEncrypted("deployments"));
        Assert.False(Transformer(Config(AesGcm("k"), "[\"*.apps\"]")).IsEncrypted("secrets"));
        Assert.True(Transformer(Config(AesGcm("k"), "[\"*.\"]")).IsEncrypted("configmaps"));
        Assert.True(Transformer(Config(AesGcm("k"), "[\"*.*\"]")).IsEncrypted("deployments"));
        Assert.True(Transformer(Config(AesGcm("k"), "[deployments.apps]")).IsEncrypted("deployments"));
    }

    [Theory]
    [InlineData("      - aescbc:\n          keys: []\n", "resources[0].providers[0]: provider \"aescbc\" is not supported by this API server (use aesgcm or identity)")]
    [InlineData("      - aesgcm:\n          keys:\n            - name: k\n              secret: c2hvcnQ=\n", "resources[0].providers[0].aesgcm.keys[0].secret: an aesgcm key is 16, 24 or 32 bytes, this one is 5")]
    [InlineData("      - identity: {}\n        extra: 1\n", "resources[0].providers[0]: expected exactly one provider (aesgcm or identity)")]
    [InlineData("", "resources[0].providers: a list is required")]
    public void A_configuration_that_cannot_be_honoured_is_refused_with_the_field(string providers, string message)
    {
        Assert.Equal(message, Assert.Throws<FormatException>(() => EncryptionConfiguration.Parse(Config(providers))).Message);
    }

    /// <summary>The UTF-8 overloads (the journal's records) store and read what the string ones do: plain text is the
    /// same bytes (not copied), other providers see the text.</summary>
    [Fact]
    public void UTF8_values_are_stored_and_read_as_strings_are()
    {
        var transformer = Transformer(Config(AesGcm("k1") + "      - identity: {}\n"));
        var text = Encoding.UTF8.GetBytes("{\"a\":\"é 😀\"}");
        var stored = transformer.ToStorage("secrets", text);
        Assert.StartsWith("k8s:enc:aesgcm:v1:k1:", Encoding.UTF8.GetString(stored));
        Assert.Equal(text, transformer.FromStorage("secrets", stored, out var stale));
        Assert.False(stale);
        // as text, the same value reads the same
        Assert.Equal("{\"a\":\"é 😀\"}", transformer.FromStorage("secrets", Encoding.UTF8.GetString(stored), out _));
        Assert.Equal(text, transformer.FromStorage("secrets", Encoding.UTF8.GetBytes(transformer.ToStorage("secrets", "{\"a\":\"é 😀\"}")), out _));
        var plain = "{\"b\":2}"u8.ToArray();
        Assert.Equal(plain, transformer.FromStorage("secrets", plain, out stale));
        Assert.True(stale); // read by identity, the second provider: to be rewritten
        var configMap = "{\"c\":3}"u8.ToArray();
        Assert.Same(configMap, transformer.ToStorage("configmaps", configMap));
        Assert.Same(configMap, transformer.FromStorage("configmaps", configMap, out stale));
        Assert.False(stale);
        // a value encrypted where the config lists no provider for it: refused as the string is
        Assert.Throws<NoProviderException>(() => transformer.FromStorage("configmaps", stored, out _));
        Assert.Throws<NoProviderException>(() => transformer.FromStorage("configmaps", Encoding.UTF8.GetString(stored), out _));
    }

    [Fact]
    public void Only_the_v1_EncryptionConfiguration_is_read()
    {
        Assert.Equal("apiVersion must be apiserver.config.k8s.io/v1",
            Assert.Throws<FormatException>(() => EncryptionConfiguration.Parse(Config(AesGcm("k")).Replace("/v1", "/v2"))).Message);
        Assert.Equal("resources[0].resources[0]: \"secrets*\": a wildcard must be \"*.*\", \"*.\" (the core group) or \"*.<group>\"",
            Assert.Throws<FormatException>(() => EncryptionConfiguration.Parse(Config(AesGcm("k"), "[\"secrets*\"]"))).Message);
    }
}
