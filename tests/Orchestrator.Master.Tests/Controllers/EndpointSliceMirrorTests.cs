using k8s.Models;
using Orchestrator.Master.Controllers.Endpoints;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class EndpointSliceMirrorTests
{
    private static V1Endpoints Endpoints(params V1EndpointSubset[] subsets) => new()
    {
        ApiVersion = "v1", Kind = "Endpoints",
        Metadata = new V1ObjectMeta
        {
            Name = "db", NamespaceProperty = "shop", Uid = "u-1",
            Labels = new Dictionary<string, string> { ["team"] = "a", ["kubernetes.io/service-name"] = "other" },
            Annotations = new Dictionary<string, string>
            {
                ["note"] = "kept", ["kubectl.kubernetes.io/last-applied-configuration"] = "{}",
                ["endpoints.kubernetes.io/last-change-trigger-time"] = "2026-01-01T00:00:00Z",
            },
        },
        Subsets = subsets,
    };

    private static V1EndpointSubset Subset(int port, params string[] ips) => new()
    {
        Addresses = ips.Select(ip => new V1EndpointAddress { Ip = ip }).ToList(),
        Ports = [new Corev1EndpointPort { Name = "sql", Port = port, Protocol = "TCP" }],
    };

    [Fact]
    public void Subsets_with_the_same_ports_share_a_slice_and_other_ports_get_their_own()
    {
        var slices = EndpointSliceMirror.Build(Endpoints(Subset(5432, "10.0.0.1"), Subset(5432, "10.0.0.2"), Subset(6432, "10.0.0.3")));

        Assert.Equal(2, slices.Count);
        Assert.Equal(["10.0.0.1", "10.0.0.2"], slices[0].Endpoints.Select(e => e.Addresses.Single()));
        Assert.Equal(6432, slices[1].Ports.Single().Port);
        Assert.Equal(2, slices.Select(s => s.Metadata.Name).Distinct().Count());
    }

    [Fact]
    public void Addresses_of_each_family_go_to_a_slice_of_that_address_type()
    {
        var slices = EndpointSliceMirror.Build(Endpoints(Subset(5432, "10.0.0.1", "fd00::1")));

        Assert.Equal(["IPv4", "IPv6"], slices.Select(s => s.AddressType));
    }

    [Fact]
    public void Not_ready_addresses_are_mirrored_as_not_ready_endpoints_with_no_other_condition()
    {
        var subset = Subset(5432, "10.0.0.1");
        subset.NotReadyAddresses = [new V1EndpointAddress { Ip = "10.0.0.2", NodeName = "n1", Hostname = "db-1" }];

        var endpoints = Assert.Single(EndpointSliceMirror.Build(Endpoints(subset))).Endpoints;

        Assert.Equal([true, false], endpoints.Select(e => e.Conditions.Ready!.Value));
        Assert.All(endpoints, e => Assert.Null(e.Conditions.Serving));
        Assert.Equal(("n1", "db-1"), (endpoints[1].NodeName, endpoints[1].Hostname));
    }

    [Fact]
    public void Labels_and_annotations_are_copied_but_the_service_name_and_manager_are_the_mirrors()
    {
        var slice = Assert.Single(EndpointSliceMirror.Build(Endpoints(Subset(5432, "10.0.0.1"))));

        Assert.Equal("a", slice.Metadata.Labels["team"]);
        Assert.Equal("db", slice.Metadata.Labels["kubernetes.io/service-name"]);
        Assert.Equal(EndpointSliceMirror.ManagedBy, slice.Metadata.Labels["endpointslice.kubernetes.io/managed-by"]);
        Assert.Equal(["note"], slice.Metadata.Annotations.Keys);
        Assert.Equal(("Endpoints", "u-1", true), (slice.Metadata.OwnerReferences.Single().Kind, slice.Metadata.OwnerReferences.Single().Uid,
            slice.Metadata.OwnerReferences.Single().Controller == true));
    }

    [Fact]
    public void The_same_endpoints_always_give_the_same_slice_names()
    {
        var endpoints = Endpoints(Subset(5432, "10.0.0.1"), Subset(6432, "10.0.0.3"));

        Assert.Equal(EndpointSliceMirror.Build(endpoints).Select(s => s.Metadata.Name), EndpointSliceMirror.Build(endpoints).Select(s => s.Metadata.Name));
    }

    [Fact]
    public void Skip_mirror_and_leader_election_endpoints_are_not_mirrored()
    {
        var skip = Endpoints(Subset(5432, "10.0.0.1"));
        skip.Metadata.Labels[EndpointSliceMirror.SkipMirrorLabel] = "true";
        var lease = Endpoints(Subset(5432, "10.0.0.1"));
        lease.Metadata.Annotations[EndpointSliceMirror.LeaderElectionAnnotation] = "{}";

        Assert.False(EndpointSliceMirror.ShouldMirror(skip));
        Assert.False(EndpointSliceMirror.ShouldMirror(lease));
        Assert.True(EndpointSliceMirror.ShouldMirror(Endpoints(Subset(5432, "10.0.0.1"))));
    }
}
