using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Identity;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Authentication;

/// <summary>
/// kube-apiserver's legacy ServiceAccount token validator (pkg/serviceaccount/legacy.go, with lookup on): a token of
/// the issuer <c>kubernetes/serviceaccount</c> that the token controller put into a Secret of type
/// kubernetes.io/service-account-token is valid while that Secret exists, is not being deleted, still holds exactly
/// this token and is not labelled invalid, and while its ServiceAccount exists with the uid in the token. Each day a
/// token is used, its Secret's <c>kubernetes.io/legacy-token-last-used</c> label is set to that date (UTC), as kube's
/// LegacyServiceAccountTokenTracking does. The user is the account's, as for a bound token.
/// </summary>
internal sealed class LegacyServiceAccountAuthenticator(ServiceAccountTokens tokens, ObjectStoreClient store,
    ILogger<LegacyServiceAccountAuthenticator> logger) : ITokenAuthenticator
{
    public const string LastUsedLabel = "kubernetes.io/legacy-token-last-used";
    public const string InvalidSinceLabel = "kubernetes.io/legacy-token-invalid-since";
    private const string Invalidated = "Token has been invalidated";

    public async Task<TokenAuthentication> AuthenticateAsync(string token, IReadOnlyList<string>? audiences, CancellationToken cancellationToken)
    {
        var (claims, rejected) = tokens.CheckLegacy(token, audiences);
        if (rejected is { NotOurs: true }) return TokenAuthentication.Unknown;
        if (rejected is not null) return TokenAuthentication.Refused(rejected.Message);
        var c = claims!;

        if ((await ServiceAccountAuthenticator.GetAsync(store, CoreResources.Secrets, c.Namespace, c.SecretName, cancellationToken)).Object
                is not V1Secret secret ||
            secret.Metadata.DeletionTimestamp is not null)
            return TokenAuthentication.Refused(Invalidated);
        var held = secret.Data?.TryGetValue("token", out var value) == true ? value : [];
        if (!CryptographicOperations.FixedTimeEquals(held, Encoding.UTF8.GetBytes(token)))
            return TokenAuthentication.Refused("Token does not match server's copy");

        var (found, accountError) = await ServiceAccountAuthenticator.GetAsync(store, CoreResources.ServiceAccounts, c.Namespace,
            c.ServiceAccountName, cancellationToken);
        if (found is not V1ServiceAccount account) return TokenAuthentication.Refused(accountError!);
        if (account.Metadata.DeletionTimestamp is not null)
            return TokenAuthentication.Refused($"ServiceAccount {c.Namespace}/{c.ServiceAccountName} has been deleted");
        if (account.Metadata.Uid != c.ServiceAccountUid)
            return TokenAuthentication.Refused($"ServiceAccount UID ({account.Metadata.Uid}) does not match claim ({c.ServiceAccountUid})");

        var now = tokens.Now.UtcDateTime;
        var (today, tomorrow) = (Day(now), Day(now.AddDays(1)));
        if (secret.Metadata.Labels?.TryGetValue(InvalidSinceLabel, out var since) == true && since.Length > 0)
        {
            await MarkUsedAsync(secret, today, tomorrow, cancellationToken);
            return TokenAuthentication.Refused(
                $"the token in secret {c.Namespace}/{c.SecretName} for service account {c.Namespace}/{c.ServiceAccountName} has been marked invalid. " +
                $"Use tokens from the TokenRequest API or manually created secret-based tokens, or remove the '{InvalidSinceLabel}' label from the secret to temporarily allow use of this token");
        }
        await MarkUsedAsync(secret, today, tomorrow, cancellationToken);

        return new TokenAuthentication(ServiceAccountAuthenticator.AccountUser(c.Subject, c.Namespace, c.ServiceAccountUid, []),
            tokens.ApiAudiences.ToList(), null);
    }

    private static string Day(DateTime time) => time.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Sets the last-used label to <paramref name="today"/> unless it says today or tomorrow (kube's tolerance of
    /// another server's clock). As kube, a failure only logs: the token is valid whether or not its use was recorded.</summary>
    private async Task MarkUsedAsync(V1Secret secret, string today, string tomorrow, CancellationToken cancellationToken)
    {
        if (secret.Metadata.Labels?.TryGetValue(LastUsedLabel, out var lastUsed) == true && (lastUsed == today || lastUsed == tomorrow)) return;
        var updated = KubeObjects.Clone(secret);
        updated.Metadata.Labels ??= new Dictionary<string, string>();
        updated.Metadata.Labels[LastUsedLabel] = today;
        try
        {
            // the read version is the precondition: a Secret changed since is left for the next use to mark
            if (await store.AskAsync(new UpdateObject(CoreResources.Secrets.StoreName, updated) { HandedOver = true }, cancellationToken,
                    CoreResources.Secrets) is StoreFailed failed)
                logger.LogDebug("could not mark the legacy token secret {Namespace}/{Name} used: {Error}", secret.Metadata.NamespaceProperty,
                    secret.Metadata.Name, failed.Error.Message);
        }
        catch (Exception e) when (e is ApiException or OperationCanceledException)
        {
            logger.LogDebug("could not mark the legacy token secret {Namespace}/{Name} used: {Error}", secret.Metadata.NamespaceProperty,
                secret.Metadata.Name, e.Message);
        }
    }
}
