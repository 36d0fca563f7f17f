using System.Text.RegularExpressions;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

public sealed class UidSourceTests
{
    [Fact]
    public void Uids_are_distinct_random_version_4_uuids_across_many_refills()
    {
        var uids = new UidSource();
        var seen = new HashSet<string>();
        var format = new Regex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
        for (var i = 0; i < 2_000; i++)
        {
            var uid = uids.Next();
            Assert.Matches(format, uid);
            Assert.True(seen.Add(uid), $"uid {uid} came twice");
            var guid = Guid.Parse(uid);
            Assert.Equal(4, guid.Version);
        }
        // every hex digit outside the version and variant takes many values: the bytes are random, not a counter
        var lastGroups = seen.Select(u => u[^12..]).ToList();
        Assert.True(lastGroups.Distinct().Count() == lastGroups.Count);
        Assert.True(seen.Select(u => u[0]).Distinct().Count() > 8);
    }
}
