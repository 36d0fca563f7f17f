using Orchestrator.Node.Proxy;
using Xunit;

namespace Orchestrator.Node.Tests.Proxy;

public sealed class AcceptBackoffTests
{
    [Fact]
    public void Failures_in_a_row_wait_longer_up_to_a_second_and_a_success_starts_again()
    {
        var backoff = new AcceptBackoff();
        var waits = Enumerable.Range(0, 10).Select(_ => (int)backoff.Next().TotalMilliseconds).ToList();
        Assert.Equal([5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000], waits);
        backoff.Reset();
        Assert.Equal(5, backoff.Next().TotalMilliseconds);
    }
}
