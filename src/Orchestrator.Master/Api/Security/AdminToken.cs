using System.Security.Cryptography;
using System.Text;

namespace Orchestrator.Master.Api.Security;

/// <summary>The admin bearer token (<see cref="BearerToken"/>), for the token reviews that may be asked about it.</summary>
internal sealed class AdminToken(string token)
{
    private readonly byte[] _token = Encoding.UTF8.GetBytes(token);

    public bool Matches(string candidate) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), _token);
}
