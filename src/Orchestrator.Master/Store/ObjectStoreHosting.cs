using Akka.Hosting;

namespace Orchestrator.Master.Store;

/// <summary>Where the store keeps its journal and snapshots.</summary>
public sealed record StoreOptions(string DataDirectory);

public static class ObjectStoreHosting
{
    // PLACEHOLDER until the store engineer's branch lands: configures Akka.Persistence.Sql on SQLite
    // (DataDirectory/store.db), starts the ObjectStore actor and registers it as ActorRegistry key ObjectStore.
    public static AkkaConfigurationBuilder WithObjectStore(this AkkaConfigurationBuilder builder, StoreOptions options) =>
        builder;
}
