using System.Security.Cryptography;
using System.Text;

namespace Orchestrator.Master.Store.Encryption;

/// <summary>One provider of an encryption rule: turns an object's JSON into its stored value and back.</summary>
public interface IValueProvider
{
    /// <summary>"aesgcm" or "identity", as in the configuration file.</summary>
    string Name { get; }

    string Write(string json, string authenticatedData);

    /// <summary>False when the value is not this provider's (no matching prefix); throws
    /// <see cref="CryptographicException"/> when it is but does not decrypt (changed bytes or a different key).
    /// <paramref name="withWritingKey"/> is false when another key than the one that writes read it.</summary>
    bool TryRead(string stored, string authenticatedData, out string json, out bool withWritingKey);
}

/// <summary>Stores the JSON as it is. Reads every value that carries no <c>k8s:enc:</c> prefix.</summary>
public sealed class IdentityProvider : IValueProvider
{
    public static IdentityProvider Instance { get; } = new();

    public const string EncryptedPrefix = "k8s:enc:";

    public string Name => "identity";

    public string Write(string json, string authenticatedData) => json;

    public bool TryRead(string stored, string authenticatedData, out string json, out bool withWritingKey)
    {
        json = stored;
        withWritingKey = true;
        return !stored.StartsWith(EncryptedPrefix, StringComparison.Ordinal);
    }
}

public sealed record AesGcmKey(string Name, byte[] Secret);

/// <summary>
/// AES-GCM as kube-apiserver's aesgcm provider: <c>k8s:enc:aesgcm:v1:&lt;key name&gt;:</c> followed by the random
/// 12-byte nonce, the ciphertext and the 16-byte tag (base64 here, because records are text). The first key
/// encrypts; any listed key decrypts the values that name it. The authenticated data binds a value to its resource.
/// </summary>
public sealed class AesGcmProvider(IReadOnlyList<AesGcmKey> keys) : IValueProvider
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public string Name => "aesgcm";

    public IReadOnlyList<AesGcmKey> Keys { get; } = keys;

    private static string Prefix(AesGcmKey key) => $"k8s:enc:aesgcm:v1:{key.Name}:";

    public string Write(string json, string authenticatedData)
    {
        var key = Keys[0];
        var plain = Encoding.UTF8.GetBytes(json);
        var sealedBytes = new byte[NonceSize + plain.Length + TagSize];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key.Secret, TagSize);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceSize, plain.Length), sealedBytes.AsSpan(NonceSize + plain.Length),
            Encoding.UTF8.GetBytes(authenticatedData));
        return Prefix(key) + Convert.ToBase64String(sealedBytes);
    }

    public bool TryRead(string stored, string authenticatedData, out string json, out bool withWritingKey)
    {
        json = "";
        var key = Keys.FirstOrDefault(k => stored.StartsWith(Prefix(k), StringComparison.Ordinal));
        withWritingKey = key == Keys[0];
        if (key is null) return false;
        byte[] sealedBytes;
        try
        {
            sealedBytes = Convert.FromBase64String(stored[Prefix(key).Length..]);
        }
        catch (FormatException)
        {
            throw new CryptographicException($"the value encrypted with key \"{key.Name}\" is not base64");
        }
        if (sealedBytes.Length < NonceSize + TagSize)
            throw new CryptographicException($"the value encrypted with key \"{key.Name}\" is too short");
        var plain = new byte[sealedBytes.Length - NonceSize - TagSize];
        using var aes = new AesGcm(key.Secret, TagSize);
        aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize, plain.Length),
            sealedBytes.AsSpan(NonceSize + plain.Length), plain, Encoding.UTF8.GetBytes(authenticatedData));
        json = Encoding.UTF8.GetString(plain);
        return true;
    }
}
