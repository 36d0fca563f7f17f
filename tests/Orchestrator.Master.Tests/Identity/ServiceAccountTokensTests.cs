using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Master.Identity;
using Xunit;

namespace Orchestrator.Master.Tests.Identity;

/// <summary>ServiceAccount JWTs as kube issues and checks them: kube's claims, signature, issuer, times and audiences.</summary>
public sealed class ServiceAccountTokensTests
{
    private const string Issuer = "https://kubernetes.default.svc.cluster.local";
    private readonly TestClock _clock = new() { Now = DateTimeOffset.Parse("2026-01-01T00:00:00Z") };
    private readonly ServiceAccountTokens _tokens;

    public ServiceAccountTokensTests() => _tokens = new(ServiceAccountSigningKey.Generate(), Issuer, [Issuer], _clock);

    private static JsonObject Part(string token, int index) =>
        JsonNode.Parse(Base64Url.TryDecode(token.Split('.')[index])!)!.AsObject();

    [Fact]
    public void A_token_carries_kubes_claims_and_checks_back_to_them()
    {
        var claims = _tokens.NewClaims("team", "robot", "sa-uid", ["x"], TimeSpan.FromHours(1),
            pod: new BoundObject("web", "pod-uid"), node: new BoundObject("n1", "node-uid"));
        var token = _tokens.Sign(claims);

        var header = Part(token, 0);
        Assert.Equal("ES256", (string?)header["alg"]);
        Assert.Equal(_tokens.Key.KeyId, (string?)header["kid"]);
        var payload = Part(token, 1);
        Assert.Equal(Issuer, (string?)payload["iss"]);
        Assert.Equal("system:serviceaccount:team:robot", (string?)payload["sub"]);
        Assert.Equal("x", (string?)payload["aud"]![0]);
        Assert.Equal(_clock.GetUtcNow().ToUnixTimeSeconds() + 3600, (long)payload["exp"]!);
        Assert.Equal(_clock.GetUtcNow().ToUnixTimeSeconds(), (long)payload["iat"]!);
        Assert.Equal(_clock.GetUtcNow().ToUnixTimeSeconds(), (long)payload["nbf"]!);
        Assert.True(Guid.TryParse((string?)payload["jti"], out _));
        var k = payload["kubernetes.io"]!;
        Assert.Equal("team", (string?)k["namespace"]);
        Assert.Equal("robot", (string?)k["serviceaccount"]!["name"]);
        Assert.Equal("sa-uid", (string?)k["serviceaccount"]!["uid"]);
        Assert.Equal("pod-uid", (string?)k["pod"]!["uid"]);
        Assert.Equal("n1", (string?)k["node"]!["name"]);

        var (checkedClaims, rejected) = _tokens.Check(token, ["x"]);
        Assert.Null(rejected);
        Assert.Equal(["x"], checkedClaims!.Audiences);
        IReadOnlyList<string> same = ["x"];
        Assert.Equal(claims with { Audiences = same }, checkedClaims with { Audiences = same });
    }

    [Fact]
    public void The_default_audience_is_the_apis_and_another_audience_is_refused_with_kubes_message()
    {
        var forApi = _tokens.Sign(_tokens.NewClaims("ns", "sa", "u", [], TimeSpan.FromHours(1)));
        Assert.Null(_tokens.Check(forApi).Rejected);
        var forX = _tokens.Sign(_tokens.NewClaims("ns", "sa", "u", ["x"], TimeSpan.FromHours(1)));
        Assert.Equal($"token audiences [\"x\"] is invalid for the target audiences [\"{Issuer}\"]", _tokens.Check(forX).Rejected!.Message);
    }

    [Fact]
    public void An_expired_token_is_refused_after_a_minute_of_leeway()
    {
        var token = _tokens.Sign(_tokens.NewClaims("ns", "sa", "u", [], TimeSpan.FromMinutes(10)));
        _clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(59));
        Assert.Null(_tokens.Check(token).Rejected);
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("service account token has expired", _tokens.Check(token).Rejected!.Message);
    }

    [Fact]
    public void A_tampered_token_or_another_keys_token_is_refused_and_a_foreign_one_is_not_ours()
    {
        var token = _tokens.Sign(_tokens.NewClaims("ns", "sa", "u", [], TimeSpan.FromHours(1)));
        var parts = token.Split('.');
        var payload = Part(token, 1);
        payload["sub"] = "system:serviceaccount:kube-system:admin";
        var forged = parts[0] + "." + Base64Url.Encode(Encoding.UTF8.GetBytes(payload.ToJsonString())) + "." + parts[2];
        Assert.False(_tokens.Check(forged).Rejected!.NotOurs);

        var other = new ServiceAccountTokens(ServiceAccountSigningKey.Generate(), Issuer, [Issuer], _clock);
        Assert.NotNull(_tokens.Check(other.Sign(other.NewClaims("ns", "sa", "u", [], TimeSpan.FromHours(1)))).Rejected);

        var elsewhere = new ServiceAccountTokens(ServiceAccountSigningKey.Generate(), "https://elsewhere", ["https://elsewhere"], _clock);
        Assert.True(_tokens.Check(elsewhere.Sign(elsewhere.NewClaims("ns", "sa", "u", [], TimeSpan.FromHours(1)))).Rejected!.NotOurs);
        Assert.True(_tokens.Check("0123456789abcdef").Rejected!.NotOurs);
    }

    [Fact]
    public void A_verified_token_is_kept_and_its_times_and_audiences_are_still_checked_on_every_use()
    {
        var token = _tokens.Sign(_tokens.NewClaims("ns", "sa", "u", ["x"], TimeSpan.FromMinutes(10)));
        Assert.Null(_tokens.Check(token, ["x"]).Rejected);
        Assert.Equal(1, _tokens.KeptCount);
        Assert.Equal(["x"], _tokens.Check(token, ["x"]).Claims!.Audiences);
        Assert.Equal("token audiences [\"x\"] is invalid for the target audiences [\"y\"]", _tokens.Check(token, ["y"]).Rejected!.Message);
        _clock.Advance(TimeSpan.FromMinutes(11) + TimeSpan.FromSeconds(1));
        Assert.Equal("service account token has expired", _tokens.Check(token, ["x"]).Rejected!.Message);
        Assert.Equal(1, _tokens.KeptCount);

        var later = _tokens.Sign(_tokens.NewClaims("ns", "sa", "u", ["x"], TimeSpan.FromMinutes(10)));
        _clock.Advance(TimeSpan.FromMinutes(-5)); // a token from the future (another master's clock) is refused while it is
        Assert.Equal("service account token is not valid yet", _tokens.Check(later, ["x"]).Rejected!.Message);
        Assert.Equal("service account token is not valid yet", _tokens.Check(later, ["x"]).Rejected!.Message);
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(_tokens.Check(later, ["x"]).Rejected);

        var legacy = _tokens.SignLegacy(new LegacyTokenClaims("ns", "sa", "u", "sa-token"));
        Assert.Equal(new LegacyTokenClaims("ns", "sa", "u", "sa-token"), _tokens.CheckLegacy(legacy).Claims);
        Assert.Equal(3, _tokens.KeptCount);
        Assert.NotNull(_tokens.CheckLegacy(legacy, ["y"]).Rejected);
        Assert.Equal(new LegacyTokenClaims("ns", "sa", "u", "sa-token"), _tokens.CheckLegacy(legacy, [Issuer]).Claims);
    }

    [Fact]
    public void Only_tokens_whose_signature_verified_are_kept_and_a_forgery_of_a_kept_token_is_refused()
    {
        var token = _tokens.Sign(_tokens.NewClaims("ns", "sa", "u", [], TimeSpan.FromHours(1)));
        Assert.Null(_tokens.Check(token).Rejected);
        var parts = token.Split('.');
        var payload = Part(token, 1);
        payload["sub"] = "system:serviceaccount:kube-system:admin";
        var forged = parts[0] + "." + Base64Url.Encode(Encoding.UTF8.GetBytes(payload.ToJsonString())) + "." + parts[2];
        Assert.Equal("square/go-jose: error in cryptographic primitive", _tokens.Check(forged).Rejected!.Message);
        Assert.Equal("square/go-jose: error in cryptographic primitive", _tokens.Check(forged).Rejected!.Message);
        var other = new ServiceAccountTokens(ServiceAccountSigningKey.Generate(), Issuer, [Issuer], _clock);
        var othersToken = other.Sign(other.NewClaims("ns", "sa", "u", [], TimeSpan.FromHours(1)));
        Assert.Null(other.Check(othersToken).Rejected);
        Assert.NotNull(_tokens.Check(othersToken).Rejected);
        Assert.NotNull(_tokens.CheckLegacy(token).Rejected); // a bound token is not a legacy one, kept or not
        Assert.Equal(1, _tokens.KeptCount);
    }

    [Fact]
    public void The_kept_tokens_are_bounded()
    {
        var tokens = Enumerable.Range(0, ServiceAccountTokens.MaxKept + 1)
            .Select(i => _tokens.Sign(_tokens.NewClaims("ns", "sa" + i, "u", [], TimeSpan.FromHours(1)))).ToList();
        foreach (var token in tokens) Assert.Null(_tokens.Check(token).Rejected);
        Assert.InRange(_tokens.KeptCount, 1, ServiceAccountTokens.MaxKept);
        Assert.Equal("sa0", _tokens.Check(tokens[0]).Claims!.ServiceAccountName);
    }

    [Fact]
    public void A_pod_token_of_kubelets_3607_seconds_lasts_a_year_and_warns_after_its_asked_lifetime()
    {
        var claims = _tokens.NewClaims("ns", "sa", "u", [], TimeSpan.FromSeconds(3607), pod: new BoundObject("p", "pu"));
        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromDays(365), claims.Expires);
        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromSeconds(3607), claims.WarnAfter);
        var unbound = _tokens.NewClaims("ns", "sa", "u", [], TimeSpan.FromSeconds(3607));
        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromSeconds(3607), unbound.Expires);
    }

    [Fact]
    public void The_key_is_generated_private_once_and_a_given_rsa_key_signs_rs256()
    {
        var dir = Directory.CreateTempSubdirectory("sa-key-").FullName;
        try
        {
            var first = ServiceAccountSigningKey.LoadOrCreate(dir, null, Orchestrator.Master.Api.Security.ServingCertificates.WritePrivate);
            var again = ServiceAccountSigningKey.LoadOrCreate(dir, null, Orchestrator.Master.Api.Security.ServingCertificates.WritePrivate);
            Assert.Equal(first.KeyId, again.KeyId);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite,
                File.GetUnixFileMode(Path.Combine(dir, ServiceAccountSigningKey.FileName)));

            using var rsa = RSA.Create(2048);
            var rsaFile = Path.Combine(dir, "rsa.pem");
            File.WriteAllText(rsaFile, rsa.ExportRSAPrivateKeyPem());
            var rsaKey = ServiceAccountSigningKey.LoadOrCreate(dir, rsaFile, (_, _) => throw new InvalidOperationException());
            Assert.Equal("RS256", rsaKey.Algorithm);
            var tokens = new ServiceAccountTokens(rsaKey, Issuer, [Issuer], _clock);
            Assert.Null(tokens.Check(tokens.Sign(tokens.NewClaims("ns", "sa", "u", [], TimeSpan.FromHours(1)))).Rejected);
            Assert.Equal("RSA", (string?)rsaKey.PublicJwk()["kty"]);

            var junk = Path.Combine(dir, "junk.pem");
            File.WriteAllText(junk, "not a key");
            Assert.Throws<InvalidDataException>(() => ServiceAccountSigningKey.LoadOrCreate(dir, junk, (_, _) => { }));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private sealed class TestClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }
        public override DateTimeOffset GetUtcNow() => Now;
        public void Advance(TimeSpan by) => Now += by;
    }
}
