using System.Security.Cryptography;

namespace Orchestrator.Master.Api.Security;

/// <summary>The API's bearer token: generated at first start into <c>{data-dir}/token</c> and reused.</summary>
internal static class BearerToken
{
    public const string FileName = "token";

    public static string LoadOrCreate(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } existing) return existing;
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
        ServingCertificates.WritePrivate(path, System.Text.Encoding.ASCII.GetBytes(token + "\n"));
        return token;
    }
}
