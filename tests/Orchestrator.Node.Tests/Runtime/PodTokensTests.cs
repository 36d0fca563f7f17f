using System.Text;
using k8s.Models;
using Orchestrator.Node.Config;
using Orchestrator.Node.Runtime;
using Xunit;

namespace Orchestrator.Node.Tests.Runtime;

/// <summary>The node's token manager (kubelet's pkg/kubelet/token): when a token is refreshed, what a failed refresh
/// keeps, and the token file of a projected volume.</summary>
public sealed class PodTokensTests
{
    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Issues "token-N" valid for the asked lifetime from the clock's now, or fails when told to.</summary>
    private sealed class Source(Clock clock) : IServiceAccountTokenSource
    {
        public int Requests { get; private set; }
        public string? Failure { get; set; }
        public List<TokenKey> Keys { get; } = [];

        public Task<IssuedToken> RequestAsync(TokenKey key, CancellationToken cancellationToken)
        {
            Requests++;
            Keys.Add(key);
            if (Failure is { } failure) throw new TokenRequestException(failure);
            return Task.FromResult(new IssuedToken($"token-{Requests}", clock.Now + TimeSpan.FromSeconds(key.ExpirationSeconds)));
        }
    }

    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TokenKey Key = new("ns", "web", "uid-1", "default", "", 3607);

    [Theory]
    [InlineData(0, 0, false)]
    [InlineData(2886, 0, false)]  // 80% of 3607 s: the last 20% is 721 s
    [InlineData(2887, 0, true)]
    [InlineData(2877, 10, true)]  // jitter brings it earlier
    public void A_token_is_refreshed_past_80_percent_of_its_lifetime(int elapsedSeconds, int jitterSeconds, bool refresh)
    {
        var token = new IssuedToken("t", Start + TimeSpan.FromSeconds(3607));
        Assert.Equal(refresh, PodTokens.RequiresRefresh(token, 3607, Start + TimeSpan.FromSeconds(elapsedSeconds), TimeSpan.FromSeconds(jitterSeconds)));
    }

    [Fact]
    public void A_long_lived_token_is_refreshed_after_24_hours()
    {
        const long week = 7 * 24 * 3600;
        var token = new IssuedToken("t", Start + TimeSpan.FromSeconds(week));
        Assert.False(PodTokens.RequiresRefresh(token, week, Start + TimeSpan.FromHours(23), TimeSpan.Zero));
        Assert.True(PodTokens.RequiresRefresh(token, week, Start + TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1), TimeSpan.Zero));
    }

    [Fact]
    public async Task The_cached_token_is_served_until_due_then_a_new_one()
    {
        var clock = new Clock(Start);
        var source = new Source(clock);
        var tokens = new PodTokens(source, clock);

        Assert.Equal("token-1", await tokens.TokenAsync(Key, CancellationToken.None));
        clock.Now = Start + TimeSpan.FromMinutes(30);
        Assert.Equal("token-1", await tokens.TokenAsync(Key, CancellationToken.None));
        Assert.Equal(1, source.Requests);
        clock.Now = Start + TimeSpan.FromMinutes(50);
        Assert.Equal("token-2", await tokens.TokenAsync(Key, CancellationToken.None));
        Assert.Equal(2, source.Requests);
    }

    [Fact]
    public async Task A_failed_refresh_keeps_the_token_until_it_expires()
    {
        var clock = new Clock(Start);
        var source = new Source(clock);
        var tokens = new PodTokens(source, clock);
        Assert.Equal("token-1", await tokens.TokenAsync(Key, CancellationToken.None));

        source.Failure = "the master is away";
        clock.Now = Start + TimeSpan.FromMinutes(55);
        Assert.Equal("token-1", await tokens.TokenAsync(Key, CancellationToken.None));
        clock.Now = Start + TimeSpan.FromSeconds(3608);
        var error = await Assert.ThrowsAsync<TokenRequestException>(() => tokens.TokenAsync(Key, CancellationToken.None));
        Assert.Equal("failed to fetch token: the master is away", error.Message);
    }

    [Fact]
    public async Task A_pods_projection_is_written_as_its_token_file_with_the_volumes_mode()
    {
        var clock = new Clock(Start);
        var source = new Source(clock);
        var tokens = new PodTokens(source, clock);
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "ns", Uid = "uid-1" },
            Spec = new V1PodSpec
            {
                ServiceAccountName = "robot",
                Containers = [new V1Container { Name = "c", Image = "i" }],
                Volumes = [new V1Volume
                {
                    Name = "kube-api-access-abcde",
                    Projected = new V1ProjectedVolumeSource
                    {
                        DefaultMode = 0x1A4,
                        Sources =
                        [
                            new V1VolumeProjection { ServiceAccountToken = new V1ServiceAccountTokenProjection { Path = "token", ExpirationSeconds = 3607 } },
                            new V1VolumeProjection { ServiceAccountToken = new V1ServiceAccountTokenProjection { Path = "vault/token", Audience = "vault", ExpirationSeconds = 600 } },
                        ],
                    },
                }],
            },
        };

        var results = await tokens.ForAsync(pod, CancellationToken.None);
        var volume = VolumeProjections.For(pod, pod.Spec.Volumes[0], new ConfigDirectory(), null, results);

        Assert.Equal(["token", "vault/token"], volume.Files.Select(f => f.Path));
        Assert.Equal("token-1", Encoding.UTF8.GetString(volume.Files[0].Content));
        Assert.Equal(0x1A4, volume.Files[0].Mode);
        Assert.True(volume.Tmpfs);
        Assert.Equal(new TokenKey("ns", "web", "uid-1", "robot", "vault", 600), source.Keys[1]);

        source.Failure = "pods \"web\" not found";
        var failed = await new PodTokens(source, clock).ForAsync(pod, CancellationToken.None);
        var error = Assert.Throws<VolumeSetupException>(() => VolumeProjections.For(pod, pod.Spec.Volumes[0], new ConfigDirectory(), null, failed));
        Assert.Contains("failed to fetch token: pods \"web\" not found", error.Message);
    }
}
