using Akka.Actor;
using Akka.TestKit.Xunit2;
using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Master.Store.Persistence;
using Orchestrator.Master.Tests.Registry;

namespace Orchestrator.Master.Tests.Store;

/// <summary>An ObjectStore on the in-memory journal, with helpers that expect its replies.</summary>
public abstract class StoreSpecBase : TestKit
{
    private const string InMemory = """
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        akka.loglevel = WARNING
        # a loaded 2-core machine can take seconds to answer; waiting longer weakens no assertion here
        akka.test.single-expect-default = 10s

        """;

    protected readonly IActorRef Store;

    /// <summary>The resources the store keeps (the built-in kinds).</summary>
    private protected ResourceCatalog Catalog { get; } = BuiltIn.NewCatalog();

    private protected StoreSpecBase(ObjectStoreSettings? settings = null) : base(InMemory + StoreRecordSerializer.Hocon)
    {
        Store = Sys.ActorOf(ObjectStore.Props(Catalog, settings), ObjectStore.ActorName);
    }

    protected IKubernetesObject<V1ObjectMeta> Stored(object command)
    {
        Store.Tell(command);
        return ExpectMsg<ObjectStored>().Object;
    }

    private protected StoreError Failed(object command)
    {
        Store.Tell(command);
        return ExpectMsg<StoreFailed>().Error;
    }

    protected long CurrentResourceVersion()
    {
        Store.Tell(new ListObjects("namespaces"));
        return ExpectMsg<ObjectsListed>().ResourceVersion;
    }

    protected static long Rv(IKubernetesObject<V1ObjectMeta> o) => long.Parse(o.Metadata.ResourceVersion);
}
