using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Orchestrator.Master.Identity;

/// <summary>
/// The key that signs ServiceAccount tokens, as kube-apiserver's --service-account-signing-key-file: an ECDSA P-256
/// key (ES256) generated at first start into <c>{data-dir}/service-account.key</c> (0600) and reused, or a PEM file
/// given by the flag (RSA → RS256, EC P-256 → ES256). The key id is kube's: the unpadded base64url SHA-256 of the
/// public key's DER (SubjectPublicKeyInfo), so it is the same for the same key everywhere.
/// </summary>
internal sealed class ServiceAccountSigningKey
{
    public const string FileName = "service-account.key";

    private readonly ECDsa? _ec;
    private readonly RSA? _rsa;

    private ServiceAccountSigningKey(ECDsa? ec, RSA? rsa)
    {
        _ec = ec;
        _rsa = rsa;
        var publicDer = ec?.ExportSubjectPublicKeyInfo() ?? rsa!.ExportSubjectPublicKeyInfo();
        KeyId = Base64Url.Encode(SHA256.HashData(publicDer));
    }

    /// <summary>The JWS algorithm: ES256 or RS256.</summary>
    public string Algorithm => _ec is not null ? "ES256" : "RS256";

    public string KeyId { get; }

    public static ServiceAccountSigningKey Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), null);

    /// <summary>The key of <paramref name="keyFile"/> when given, else the data directory's (made when missing).</summary>
    public static ServiceAccountSigningKey LoadOrCreate(string dataDirectory, string? keyFile, Action<string, byte[]> writePrivate)
    {
        if (keyFile is { Length: > 0 }) return FromPem(File.ReadAllText(keyFile), keyFile);
        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path)) return FromPem(File.ReadAllText(path), path);
        var key = Generate();
        Directory.CreateDirectory(dataDirectory);
        writePrivate(path, System.Text.Encoding.ASCII.GetBytes(key._ec!.ExportPkcs8PrivateKeyPem() + "\n"));
        return key;
    }

    /// <summary>A private key in PEM (PKCS#8, SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY").</summary>
    public static ServiceAccountSigningKey FromPem(string pem, string source)
    {
        if (pem.Contains("RSA PRIVATE KEY", StringComparison.Ordinal)) return FromRsa(pem, source);
        if (pem.Contains("EC PRIVATE KEY", StringComparison.Ordinal)) return FromEc(pem, source);
        try
        {
            return FromEc(pem, source);
        }
        catch (InvalidDataException)
        {
            return FromRsa(pem, source);
        }
    }

    private static ServiceAccountSigningKey FromEc(string pem, string source)
    {
        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            ec.Dispose();
            throw new InvalidDataException($"{source}: not an EC private key in PEM: {e.Message}");
        }
        if (ec.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
            throw new InvalidDataException($"{source}: only P-256 EC keys (ES256) are supported");
        return new(ec, null);
    }

    private static ServiceAccountSigningKey FromRsa(string pem, string source)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            throw new InvalidDataException($"{source}: neither an EC nor an RSA private key in PEM: {e.Message}");
        }
        if (rsa.KeySize < 2048) throw new InvalidDataException($"{source}: RSA keys must have at least 2048 bits");
        return new(null, rsa);
    }

    public byte[] Sign(byte[] data) => _ec is not null
        ? _ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
        : _rsa!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    public bool Verify(byte[] data, byte[] signature) => _ec is not null
        ? _ec.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
        : _rsa!.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>The public key as a JWK, as /openid/v1/jwks serves it (use "sig", the algorithm and the key id).</summary>
    public JsonObject PublicJwk()
    {
        if (_ec is not null)
        {
            var p = _ec.ExportParameters(false);
            return new JsonObject
            {
                ["use"] = "sig", ["kty"] = "EC", ["kid"] = KeyId, ["crv"] = "P-256", ["alg"] = "ES256",
                ["x"] = Base64Url.Encode(p.Q.X!), ["y"] = Base64Url.Encode(p.Q.Y!),
            };
        }
        var r = _rsa!.ExportParameters(false);
        return new JsonObject
        {
            ["use"] = "sig", ["kty"] = "RSA", ["kid"] = KeyId, ["alg"] = "RS256",
            ["n"] = Base64Url.Encode(r.Modulus!), ["e"] = Base64Url.Encode(r.Exponent!),
        };
    }
}

/// <summary>Unpadded base64url (RFC 7515), the encoding of JWS parts.</summary>
internal static class Base64Url
{
    public static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[]? TryDecode(string text)
    {
        if (text.Contains('=') || text.Contains('+') || text.Contains('/')) return null;
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += (padded.Length % 4) switch { 2 => "==", 3 => "=", 0 => "", _ => "!" };
        try
        {
            return Convert.FromBase64String(padded);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
