using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Controllers.Endpoints;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class PersistentVolumeBinderTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private static V1PersistentVolume Volume(string name, string size, string storageClass = "manual") => new()
    {
        ApiVersion = "v1", Kind = "PersistentVolume",
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1PersistentVolumeSpec
        {
            StorageClassName = storageClass, AccessModes = ["ReadWriteOnce"],
            Capacity = new Dictionary<string, ResourceQuantity> { ["storage"] = new(size) },
            HostPath = new V1HostPathVolumeSource { Path = "/mnt/" + name },
        },
    };

    private static V1PersistentVolumeClaim Claim(string name, string size, string storageClass = "manual") => new()
    {
        ApiVersion = "v1", Kind = "PersistentVolumeClaim",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1PersistentVolumeClaimSpec
        {
            StorageClassName = storageClass, AccessModes = ["ReadWriteOnce"],
            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(size) } },
        },
    };

    [Fact]
    public void A_claim_binds_the_smallest_fitting_volume_and_its_deletion_releases_it()
    {
        Seed(Volume("big", "100Gi"));
        Seed(Volume("small", "1Gi"));
        Seed(Volume("fits", "10Gi"));
        Seed(Volume("other-class", "5Gi", "fast"));
        Sys.ActorOf(PersistentVolumeBinder.Props(Store, Resync));
        Sys.ActorOf(StorageProtectionController.Props(Store, Resync)); // lets the claim go (kubernetes.io/pvc-protection)
        AwaitAssert(() => Assert.All(All<V1PersistentVolume>(), pv => Assert.Equal("Available", pv.Status.Phase)));

        var claim = Seed(Claim("task-pv-claim", "3Gi"));
        AwaitAssert(() =>
        {
            var bound = Find<V1PersistentVolumeClaim>("task-pv-claim")!;
            Assert.Equal(("Bound", "fits"), (bound.Status.Phase, bound.Spec.VolumeName));
            Assert.Equal("10Gi", bound.Status.Capacity["storage"].ToString());
            var pv = Find<V1PersistentVolume>("fits")!;
            Assert.Equal(("Bound", claim.Metadata.Uid), (pv.Status.Phase, pv.Spec.ClaimRef.Uid));
        });
        Assert.Equal("Available", Find<V1PersistentVolume>("big")!.Status.Phase);

        Write(new DeleteObject(new ResourceKey("persistentvolumeclaims", "default", "task-pv-claim")));
        AwaitAssert(() => Assert.Equal("Released", Find<V1PersistentVolume>("fits")!.Status.Phase));
    }

    [Fact]
    public void A_claim_nothing_fits_stays_pending()
    {
        Seed(Volume("small", "1Gi"));
        Sys.ActorOf(PersistentVolumeBinder.Props(Store, Resync));
        Seed(Claim("too-big", "3Gi"));
        AwaitAssert(() => Assert.Equal("Available", Find<V1PersistentVolume>("small")!.Status.Phase));
        var claim = Find<V1PersistentVolumeClaim>("too-big")!;
        Assert.Equal("Pending", claim.Status.Phase);
        Assert.Null(claim.Spec.VolumeName);
    }
}

public sealed class EndpointSliceAndLeaseControllersTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    [Fact]
    public void A_services_endpoints_are_mirrored_into_a_slice_that_goes_with_them()
    {
        Seed(new V1Service
        {
            ApiVersion = "v1", Kind = "Service", Metadata = new V1ObjectMeta { Name = "my-service", NamespaceProperty = "default" },
            Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Name = "http", Port = 80, Protocol = "TCP" }] },
        });
        Seed(new V1Endpoints
        {
            ApiVersion = "v1", Kind = "Endpoints", Metadata = new V1ObjectMeta { Name = "my-service", NamespaceProperty = "default" },
            Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = "10.4.5.6" }], Ports = [new Corev1EndpointPort { Name = "http", Port = 9376 }] }],
        });
        Sys.ActorOf(EndpointSliceController.Props(Store, Resync));

        AwaitAssert(() =>
        {
            var slice = Assert.Single(All<V1EndpointSlice>());
            Assert.Equal("my-service", slice.Metadata.Labels[EndpointSliceBuilder.ServiceNameLabel]);
            Assert.Equal(("IPv4", "10.4.5.6", 9376), (slice.AddressType, slice.Endpoints.Single().Addresses.Single(), slice.Ports.Single().Port));
            Assert.Equal("Service", slice.Metadata.OwnerReferences.Single().Kind);
        });

        Write(new DeleteObject(new ResourceKey("endpoints", "default", "my-service")));
        AwaitAssert(() => Assert.Empty(All<V1EndpointSlice>()));
    }

    [Fact]
    public void Endpoints_labelled_skip_mirror_get_no_slice()
    {
        foreach (var (name, skip) in new[] { ("own-slices", true), ("plain", false) })
        {
            Seed(new V1Service
            {
                ApiVersion = "v1", Kind = "Service", Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
                Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Name = "https", Port = 443, Protocol = "TCP" }] },
            });
            Seed(new V1Endpoints
            {
                ApiVersion = "v1", Kind = "Endpoints",
                Metadata = new V1ObjectMeta
                {
                    Name = name, NamespaceProperty = "default",
                    Labels = skip ? new Dictionary<string, string> { ["endpointslice.kubernetes.io/skip-mirror"] = "true" } : null,
                },
                Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = "10.4.5.7" }], Ports = [new Corev1EndpointPort { Name = "https", Port = 6443 }] }],
            });
        }
        Sys.ActorOf(EndpointSliceController.Props(Store, Resync));

        AwaitAssert(() => Assert.Single(All<V1EndpointSlice>(), s => s.Metadata.Labels[EndpointSliceBuilder.ServiceNameLabel] == "plain"));
        Write(new UpdateObject("endpoints", Bump(Find<V1Endpoints>("plain")!)));
        AwaitAssert(() => Assert.Equal("10.4.5.8", Assert.Single(All<V1EndpointSlice>()).Endpoints.Single().Addresses.Single()));
    }

    private static V1Endpoints Bump(V1Endpoints endpoints)
    {
        endpoints.Subsets[0].Addresses[0].Ip = "10.4.5.8";
        return endpoints;
    }
}
