using System.Reflection;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Master.Store.Persistence;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Shared.Api;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers.Support;

/// <summary>
/// A TestKit with a store for controllers to run against: the real <see cref="ObjectStore"/> on the in-memory
/// journal (default), or the <see cref="FakeObjectStore"/> when a test needs what the real one does not allow
/// (e.g. chosen creation times). Every write request reaching the store is echoed to <see cref="Writes"/>.
/// </summary>
public abstract class ControllerTestKit : TestKit
{
    private const string Config = """
        akka.loglevel = INFO
        akka.test.single-expect-default = 10s
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"

        """;

    // Generous: on a loaded CI machine, with the test classes running side by side, a fresh store has been seen to
    // take 10 s to recover its empty journal before it answers the first write.
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    // A store that has not recovered yet holds every request back. A test's own deadlines (AwaitAssert) start after
    // it has answered once, so a slow recovery on a loaded machine (15 s seen in CI) is not taken for a slow controller.
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(60);

    protected TestProbe Writes { get; }
    protected IActorRef Store { get; }

    /// <summary>The resources the store keeps (the built-in kinds).</summary>
    private protected ResourceCatalog Catalog { get; } = BuiltIn.NewCatalog();

    protected ControllerTestKit(ITestOutputHelper output, bool fakeStore = false) : this(output, fakeStore, null) { }

    /// <summary>With the admission plugins the store runs on every create and update (as the master's).</summary>
    private protected ControllerTestKit(ITestOutputHelper output, bool fakeStore, IReadOnlyList<IAdmissionPlugin>? admissions)
        : base(Config + StoreRecordSerializer.Hocon, output)
    {
        Writes = CreateTestProbe("writes");
        var target = fakeStore
            ? Sys.ActorOf(FakeObjectStore.Props(), "fake-store")
            : Sys.ActorOf(ObjectStore.Props(Catalog, admissions: admissions), ObjectStore.ActorName);
        Store = Sys.ActorOf(RecordingStoreProxy.Props(target, Writes), "store-proxy");
        if (!fakeStore) AwaitRecovery(target);
    }

    private void AwaitRecovery(IActorRef store)
    {
        var answer = store.Ask<object>(new ListObjects(ResourceOf(typeof(V1Namespace))), RecoveryTimeout).Result;
        if (answer is not ObjectsListed) throw new InvalidOperationException($"The store answered {answer} instead of a list after its recovery");
    }

    public static string ResourceOf(Type type) => BuiltIn.ForType(type).StoreName;

    /// <summary>Creates an object as a client would — and, since a create ignores status, writes its status too —
    /// and returns the stored copy (with uid and resourceVersion).</summary>
    protected T Seed<T>(T obj) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var resource = ResourceOf(typeof(T));
        var stored = (T)Ask(new CreateObject(resource, obj));
        var status = typeof(T).GetProperty("Status", BindingFlags.Public | BindingFlags.Instance);
        if (status?.GetValue(obj) is null || KubeObjects.Serialize(status.GetValue(obj)!) == KubeObjects.Serialize(status.GetValue(stored) ?? ""))
            return stored;
        var withStatus = KubeObjects.Clone(stored);
        status.SetValue(withStatus, status.GetValue(obj));
        return (T)Ask(new UpdateObject(resource, withStatus, "status"));
    }

    /// <summary>Every stored object of a kind, as copies the test may change.</summary>
    protected IReadOnlyList<T> All<T>() where T : class, IKubernetesObject<V1ObjectMeta> =>
        Store.Ask<object>(new ListObjects(ResourceOf(typeof(T))), AskTimeout).Result is ObjectsListed listed
            ? listed.Items.Select(KubeObjects.CloneObject).Cast<T>().ToList()
            : throw new InvalidOperationException("list failed");

    /// <summary>Writes through the store as another client would (e.g. kubectl scale).</summary>
    protected void Write(object request) => Ask(request);

    protected T? Find<T>(string name) where T : class, IKubernetesObject<V1ObjectMeta> =>
        All<T>().FirstOrDefault(o => o.Metadata.Name == name);

    private IKubernetesObject<V1ObjectMeta> Ask(object request) =>
        Store.Ask<object>(request, AskTimeout).Result switch
        {
            ObjectStored s => s.Object,
            StoreFailed f => throw new InvalidOperationException($"{request.GetType().Name} failed: {f.Error.Code} {f.Error.Message}"),
            var other => throw new InvalidOperationException($"unexpected {other}"),
        };
}
