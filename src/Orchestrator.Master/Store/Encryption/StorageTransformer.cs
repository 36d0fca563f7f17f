using System.Security.Cryptography;

namespace Orchestrator.Master.Store.Encryption;

/// <summary>
/// Applies an <see cref="EncryptionConfiguration"/> to the store's records: the providers of each resource (by the
/// store's resource name), the first writing, all reading. A resource no rule covers is stored as plain JSON
/// (identity), as in kube-apiserver. A value read with any provider but the first is stale: the store rewrites it
/// (that is how a key rotation or a newly enabled encryption reaches old records).
/// </summary>
public sealed class StorageTransformer
{
    private readonly Dictionary<string, IReadOnlyList<IValueProvider>> _byStoreName = new(StringComparer.Ordinal);

    public static StorageTransformer Identity { get; } = new(EncryptionConfiguration.None, []);

    /// <param name="resources">Every resource the store keeps: its store name, API group and plural.</param>
    public StorageTransformer(EncryptionConfiguration configuration, IEnumerable<(string StoreName, string Group, string Resource)> resources)
    {
        foreach (var (storeName, group, resource) in resources)
            if (configuration.Rules.FirstOrDefault(r => r.Covers(group, resource)) is { } rule)
                _byStoreName[storeName] = rule.Providers;
    }

    /// <summary>True when some resource is written through a provider other than identity.</summary>
    public bool Encrypts => _byStoreName.Values.Any(p => p[0] is not IdentityProvider);

    public bool IsEncrypted(string storeName) => _byStoreName.TryGetValue(storeName, out var p) && p[0] is not IdentityProvider;

    public string ToStorage(string storeName, string json) =>
        _byStoreName.TryGetValue(storeName, out var providers) ? providers[0].Write(json, storeName) : json;

    /// <summary>The JSON of a stored value. <see cref="CryptographicException"/> when no configured provider can
    /// read it or its bytes were changed.</summary>
    public string FromStorage(string storeName, string stored, out bool stale)
    {
        var providers = _byStoreName.GetValueOrDefault(storeName) ?? [IdentityProvider.Instance];
        for (var i = 0; i < providers.Count; i++)
            if (providers[i].TryRead(stored, storeName, out var json, out var withWritingKey))
            {
                stale = i > 0 || !withWritingKey;
                return json;
            }
        throw new NoProviderException(stored.StartsWith(IdentityProvider.EncryptedPrefix, StringComparison.Ordinal)
            ? $"no provider of the encryption provider config for {storeName} reads values stored as " +
              $"\"{string.Concat(stored.Split(':').Take(5).Select(s => s + ":"))}\" (list that key)"
            : $"{storeName} are stored as plain JSON but the encryption provider config does not list identity for them");
    }
}

/// <summary>A stored value that no configured provider reads: a configuration error (a key was removed too early),
/// not damage, so recovery never skips it.</summary>
public sealed class NoProviderException(string message) : CryptographicException(message);
