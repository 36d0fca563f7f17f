using System.Text;
using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Identity;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Orchestrator.Shared.Api;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers;

/// <summary>The service account token controller: a legacy token Secret filled in for its account, deleted without one.</summary>
public sealed class LegacyTokenControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);
    private const string Ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    private readonly ServiceAccountTokens _tokens = new(ServiceAccountSigningKey.Generate(), ServiceAccountTokens.DefaultIssuer, [],
        TimeProvider.System);

    private void StartController() =>
        Sys.ActorOf(LegacyTokenController.Props(Store, Resync, ControlPlaneHosting.LegacyTokens(_tokens), Ca));

    private V1ServiceAccount Account(string name) =>
        Seed(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" } });

    private V1Secret TokenSecret(string name, string account, IDictionary<string, byte[]>? data = null) =>
        Seed(new V1Secret
        {
            Metadata = new V1ObjectMeta
            {
                Name = name, NamespaceProperty = "default",
                Annotations = new Dictionary<string, string> { [LegacyTokenController.AccountNameAnnotation] = account },
            },
            Type = LegacyTokenController.TokenType,
            Data = data,
        });

    private V1Secret? Secret(string name) => All<V1Secret>().FirstOrDefault(s => s.Metadata.Name == name);

    [Fact]
    public void A_token_secret_gets_a_token_of_its_account_the_ca_and_its_namespace()
    {
        var account = Account("build-robot");
        TokenSecret("build-robot-secret", "build-robot");
        StartController();

        AwaitAssert(() => Assert.True(Secret("build-robot-secret")?.Data?.ContainsKey("token") == true));
        var secret = Secret("build-robot-secret")!;
        Assert.Equal(Ca, Encoding.UTF8.GetString(secret.Data["ca.crt"]));
        Assert.Equal("default", Encoding.UTF8.GetString(secret.Data["namespace"]));
        Assert.Equal(account.Metadata.Uid, secret.Metadata.Annotations[LegacyTokenController.AccountUidAnnotation]);
        var (claims, rejected) = _tokens.CheckLegacy(Encoding.UTF8.GetString(secret.Data["token"]));
        Assert.Null(rejected);
        Assert.Equal(new LegacyTokenClaims("default", "build-robot", account.Metadata.Uid, "build-robot-secret"), claims);
    }

    [Fact]
    public void A_token_already_there_is_kept_and_only_what_is_missing_is_added()
    {
        Account("ci");
        TokenSecret("ci-token", "ci", new Dictionary<string, byte[]> { ["token"] = "given"u8.ToArray() });
        StartController();

        AwaitAssert(() => Assert.True(Secret("ci-token")?.Data?.ContainsKey("namespace") == true));
        Assert.Equal("given", Encoding.UTF8.GetString(Secret("ci-token")!.Data["token"]));
        Assert.Equal(Ca, Encoding.UTF8.GetString(Secret("ci-token")!.Data["ca.crt"]));
    }

    [Fact]
    public void A_token_secret_without_its_account_is_deleted_and_an_accounts_tokens_go_with_it()
    {
        Account("robot");
        var kept = TokenSecret("robot-token", "robot");
        var orphan = TokenSecret("nobody-token", "nobody");
        var opaque = Seed(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "plain", NamespaceProperty = "default" },
            StringData = new Dictionary<string, string> { ["a"] = "b" },
        });
        StartController();

        AwaitAssert(() => Assert.Null(Secret("nobody-token")), TimeSpan.FromSeconds(30));
        Assert.Equal(kept.Metadata.Uid, Secret("robot-token")?.Metadata.Uid);

        Write(new DeleteObject(new ResourceKey("serviceaccounts", "default", "robot")));
        AwaitAssert(() => Assert.Null(Secret("robot-token")), TimeSpan.FromSeconds(30));
        Assert.Equal(opaque.Metadata.Uid, Secret("plain")?.Metadata.Uid);
        Assert.NotNull(orphan);
    }

    [Fact]
    public void A_secret_naming_another_uid_of_its_account_is_deleted()
    {
        Account("app");
        var secret = TokenSecret("app-token", "app");
        var stale = KubeObjects.Clone(secret);
        stale.Metadata.Annotations[LegacyTokenController.AccountUidAnnotation] = "an-earlier-account";
        Write(new UpdateObject("secrets", stale));
        StartController();

        AwaitAssert(() => Assert.Null(Secret("app-token")), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void A_deleted_token_secret_is_taken_out_of_its_accounts_list()
    {
        var account = Account("legacy");
        TokenSecret("legacy-token-abcde", "legacy");
        var listed = KubeObjects.Clone(account);
        listed.Secrets = [new V1ObjectReference { Name = "legacy-token-abcde" }, new V1ObjectReference { Name = "registry-pull" }];
        Write(new UpdateObject("serviceaccounts", listed));
        StartController();
        AwaitAssert(() => Assert.True(Secret("legacy-token-abcde")?.Data?.ContainsKey("token") == true));

        Write(new DeleteObject(new ResourceKey("secrets", "default", "legacy-token-abcde")));
        AwaitAssert(() => Assert.Equal(["registry-pull"],
            All<V1ServiceAccount>().Single(a => a.Metadata.Name == "legacy").Secrets!.Select(s => s.Name).ToArray()));
    }
}
