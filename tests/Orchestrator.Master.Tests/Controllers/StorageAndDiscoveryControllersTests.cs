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
    public void A_selector_services_endpoints_become_a_slice_that_goes_with_them()
    {
        Seed(Service("my-service", selector: true, "http", 80));
        Seed(Endpoints("my-service", null, "http", 9376, "10.4.5.6"));
        Sys.ActorOf(EndpointSliceController.Props(Store, Resync));

        AwaitAssert(() =>
        {
            var slice = Assert.Single(All<V1EndpointSlice>());
            Assert.Equal("my-service", slice.Metadata.Labels[EndpointSliceBuilder.ServiceNameLabel]);
            Assert.Equal(EndpointSliceBuilder.ManagedBy, slice.Metadata.Labels[EndpointSliceBuilder.ManagedByLabel]);
            Assert.Equal(("IPv4", "10.4.5.6", 9376), (slice.AddressType, slice.Endpoints.Single().Addresses.Single(), slice.Ports.Single().Port));
            Assert.Equal("Service", slice.Metadata.OwnerReferences.Single().Kind);
        });

        Write(new DeleteObject(new ResourceKey("endpoints", "default", "my-service")));
        AwaitAssert(() => Assert.Empty(All<V1EndpointSlice>()));
    }

    [Fact]
    public void The_endpoint_slice_controller_leaves_selectorless_services_to_the_mirroring_controller()
    {
        Seed(Service("external", selector: false, "http", 80));
        Seed(Endpoints("external", null, "http", 9376, "10.4.5.6"));
        Seed(Service("with-pods", selector: true, "http", 80));
        Seed(Endpoints("with-pods", null, "http", 9376, "10.4.5.9"));
        Sys.ActorOf(EndpointSliceController.Props(Store, Resync));

        AwaitAssert(() => Assert.Equal("with-pods", Assert.Single(All<V1EndpointSlice>()).Metadata.Labels[EndpointSliceBuilder.ServiceNameLabel]));
    }

    [Fact]
    public void Hand_written_endpoints_of_a_selectorless_service_are_mirrored_until_they_go()
    {
        Seed(Service("external", selector: false, "http", 80));
        var endpoints = Endpoints("external", new Dictionary<string, string> { ["team"] = "a" }, "http", 9376, "10.4.5.6");
        endpoints.Subsets[0].NotReadyAddresses = [new V1EndpointAddress { Ip = "10.4.5.7" }];
        Seed(endpoints);
        Sys.ActorOf(EndpointSliceMirroringController.Props(Store, Resync));

        AwaitAssert(() =>
        {
            var slice = Assert.Single(All<V1EndpointSlice>());
            Assert.Equal(EndpointSliceMirror.ManagedBy, slice.Metadata.Labels[EndpointSliceBuilder.ManagedByLabel]);
            Assert.Equal(("external", "a"), (slice.Metadata.Labels[EndpointSliceBuilder.ServiceNameLabel], slice.Metadata.Labels["team"]));
            Assert.StartsWith("external-", slice.Metadata.Name);
            Assert.Equal("Endpoints", slice.Metadata.OwnerReferences.Single().Kind);
            Assert.Equal([("10.4.5.6", true), ("10.4.5.7", false)], slice.Endpoints.Select(e => (e.Addresses.Single(), e.Conditions.Ready == true)));
            Assert.Equal(("http", 9376), (slice.Ports.Single().Name, slice.Ports.Single().Port));
        });

        Write(new UpdateObject("endpoints", Bump(Find<V1Endpoints>("external")!)));
        AwaitAssert(() => Assert.Equal("10.4.5.8", Assert.Single(All<V1EndpointSlice>()).Endpoints[0].Addresses.Single()));
        Write(new DeleteObject(new ResourceKey("endpoints", "default", "external")));
        AwaitAssert(() => Assert.Empty(All<V1EndpointSlice>()));
    }

    [Fact]
    public void Endpoints_labelled_skip_mirror_or_of_a_selector_service_are_not_mirrored()
    {
        Seed(Service("own-slices", selector: false, "https", 443));
        Seed(Endpoints("own-slices", new Dictionary<string, string> { [EndpointSliceMirror.SkipMirrorLabel] = "true" }, "https", 6443, "10.4.5.7"));
        Seed(Service("with-pods", selector: true, "https", 443));
        Seed(Endpoints("with-pods", null, "https", 6443, "10.4.5.7"));
        Seed(Service("plain", selector: false, "https", 443));
        Seed(Endpoints("plain", null, "https", 6443, "10.4.5.7"));
        Sys.ActorOf(EndpointSliceMirroringController.Props(Store, Resync));

        AwaitAssert(() => Assert.Equal("plain", Assert.Single(All<V1EndpointSlice>()).Metadata.Labels[EndpointSliceBuilder.ServiceNameLabel]));
        // a Service that gains a selector loses its mirrored slices
        var plain = Find<V1Service>("plain")!;
        plain.Spec.Selector = new Dictionary<string, string> { ["app"] = "plain" };
        Write(new UpdateObject("services", plain));
        AwaitAssert(() => Assert.Empty(All<V1EndpointSlice>()));
    }

    [Fact]
    public void The_api_servers_service_gets_its_own_slice_even_on_a_loopback_address()
    {
        Sys.ActorOf(ApiServerEndpointsReconciler.Props(Store, Resync, "127.0.0.10", 7443));

        AwaitAssert(() =>
        {
            var slice = Assert.Single(All<V1EndpointSlice>());
            Assert.Equal(("kubernetes", "kubernetes"), (slice.Metadata.Name, slice.Metadata.Labels[EndpointSliceBuilder.ServiceNameLabel]));
            Assert.Equal(("127.0.0.10", true), (slice.Endpoints.Single().Addresses.Single(), slice.Endpoints.Single().Conditions.Ready == true));
            Assert.Equal(("https", 7443), (slice.Ports.Single().Name, slice.Ports.Single().Port));
            Assert.Equal("true", Find<V1Endpoints>("kubernetes")!.Metadata.Labels[EndpointSliceMirror.SkipMirrorLabel]);
        });
    }

    private static V1Service Service(string name, bool selector, string portName, int port) => new()
    {
        ApiVersion = "v1", Kind = "Service", Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1ServiceSpec
        {
            Selector = selector ? new Dictionary<string, string> { ["app"] = name } : null,
            Ports = [new V1ServicePort { Name = portName, Port = port, Protocol = "TCP" }],
        },
    };

    private static V1Endpoints Endpoints(string name, Dictionary<string, string>? labels, string portName, int port, string ip) => new()
    {
        ApiVersion = "v1", Kind = "Endpoints", Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Labels = labels },
        Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = ip }], Ports = [new Corev1EndpointPort { Name = portName, Port = port }] }],
    };

    private static V1Endpoints Bump(V1Endpoints endpoints)
    {
        endpoints.Subsets[0].Addresses[0].Ip = "10.4.5.8";
        return endpoints;
    }
}
