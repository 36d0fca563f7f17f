using System.Security.Cryptography;

namespace Orchestrator.Master.Store.Encryption;

/// <summary>
/// Applies an <see cref="EncryptionConfiguration"/> to the store's records: the providers of each resource (by the
/// store's resource name), the first writing, all reading. A resource no rule covers is stored as plain JSON
/// (identity), as in kube-apiserver. A value read with any provider but the first is stale: the store rewrites it
/// (that is how a key rotation or a newly enabled encryption reaches old records).
/// </summary>
internal sealed class StorageTransformer
{
    private static readonly IReadOnlyList<IValueProvider> Plain = [IdentityProvider.Instance];
    private readonly EncryptionConfiguration _configuration;
    private readonly Func<string, (string Group, string Resource)> _identify;
    // Resources come and go at run time (custom resources), so each store name is matched against the rules when
    // first met.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyList<IValueProvider>> _byStoreName = new(StringComparer.Ordinal);

    public static StorageTransformer Identity { get; } = new(EncryptionConfiguration.None, _ => ("", ""));

    /// <param name="identify">A store name's API group and plural.</param>
    public StorageTransformer(EncryptionConfiguration configuration, Func<string, (string Group, string Resource)> identify)
    {
        _configuration = configuration;
        _identify = identify;
    }

    /// <summary>True when some resource is written through a provider other than identity.</summary>
    public bool Encrypts => _configuration.Rules.Any(r => r.Providers[0] is not IdentityProvider);

    public bool IsEncrypted(string storeName) => Providers(storeName)[0] is not IdentityProvider;

    public string ToStorage(string storeName, string json) => Providers(storeName)[0].Write(json, storeName);

    private static readonly byte[] EncryptedPrefix = System.Text.Encoding.UTF8.GetBytes(IdentityProvider.EncryptedPrefix);

    /// <summary><see cref="ToStorage(string, string)"/> of UTF-8 text: plain JSON (identity, the first provider of every
    /// resource no rule covers) is the same bytes; the providers that transform see text.</summary>
    public byte[] ToStorage(string storeName, byte[] json)
    {
        var provider = Providers(storeName)[0];
        return provider is IdentityProvider
            ? json
            : System.Text.Encoding.UTF8.GetBytes(provider.Write(System.Text.Encoding.UTF8.GetString(json), storeName));
    }

    /// <summary><see cref="FromStorage(string, string, out bool)"/> of UTF-8 text: a plain value that identity, the first
    /// provider, reads (as it reads every value without the encrypted prefix) is the same bytes and not stale; the
    /// rest goes through the providers as text.</summary>
    public byte[] FromStorage(string storeName, byte[] stored, out bool stale)
    {
        if (Providers(storeName)[0] is IdentityProvider && !stored.AsSpan().StartsWith(EncryptedPrefix))
        {
            stale = false;
            return stored;
        }
        return System.Text.Encoding.UTF8.GetBytes(FromStorage(storeName, System.Text.Encoding.UTF8.GetString(stored), out stale));
    }

    private IReadOnlyList<IValueProvider> Providers(string storeName) =>
        _configuration.Rules.Count == 0 ? Plain : _byStoreName.GetOrAdd(storeName, name =>
        {
            var (group, resource) = _identify(name);
            return _configuration.Rules.FirstOrDefault(r => r.Covers(group, resource))?.Providers ?? Plain;
        });

    /// <summary>The JSON of a stored value. <see cref="CryptographicException"/> when no configured provider can
    /// read it or its bytes were changed.</summary>
    public string FromStorage(string storeName, string stored, out bool stale)
    {
        var providers = Providers(storeName);
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
