namespace Orchestrator.Master.Api.Security;

/// <summary>A bearer-token authenticator besides the admin token (ServiceAccount JWTs): the token's user, or why it
/// is refused (<see cref="TokenAuthentication.Error"/>), or neither when the token is not one it knows.</summary>
internal interface ITokenAuthenticator
{
    Task<TokenAuthentication> AuthenticateAsync(string token, IReadOnlyList<string>? audiences, CancellationToken cancellationToken);
}

/// <summary>The outcome of a token check: a user with the audiences it is valid for, an error (the token is this
/// authenticator's and invalid), or <see cref="Unknown"/>.</summary>
internal sealed record TokenAuthentication(UserInfo? User, IReadOnlyList<string> Audiences, string? Error)
{
    public static readonly TokenAuthentication Unknown = new(null, [], null);

    public static TokenAuthentication Refused(string error) => new(null, [], error);
}
