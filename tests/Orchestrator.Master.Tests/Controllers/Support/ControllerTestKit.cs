using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using k8s;
using k8s.Models;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers.Support;

/// <summary>A TestKit with a <see cref="FakeObjectStore"/> whose writes are echoed to <see cref="Writes"/>.</summary>
public abstract class ControllerTestKit : TestKit
{
    private const string Config = """
        akka.loglevel = INFO
        akka.test.timefactor = 1
        """;

    protected TestProbe Writes { get; }
    protected IActorRef Store { get; }

    protected ControllerTestKit(ITestOutputHelper output) : base(Config, output)
    {
        Writes = CreateTestProbe("writes");
        Store = Sys.ActorOf(FakeObjectStore.Props(Writes), "object-store");
    }

    /// <summary>Stores an object as a client would and returns the stored copy (with uid and resourceVersion).</summary>
    protected T Seed<T>(T obj) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var reply = Store.Ask<object>(new FakeObjectStore.Put(obj), TimeSpan.FromSeconds(3)).Result;
        return reply is Orchestrator.Master.Store.ObjectStored s
            ? (T)s.Object
            : throw new InvalidOperationException($"seed failed: {reply}");
    }

    protected IReadOnlyList<T> All<T>() =>
        Store.Ask<List<IKubernetesObject<V1ObjectMeta>>>(new FakeObjectStore.Snapshot(), TimeSpan.FromSeconds(3)).Result
            .Select(Orchestrator.Shared.Api.KubeObjects.CloneObject).OfType<T>().ToList(); // the store's objects are shared

    /// <summary>Writes through the store as another client would (e.g. kubectl scale).</summary>
    protected void Write(object request)
    {
        var reply = Store.Ask<object>(request, TimeSpan.FromSeconds(3)).Result;
        if (reply is Orchestrator.Master.Store.StoreFailed f) throw new InvalidOperationException(f.Error.Message);
    }

    protected T? Find<T>(string name) where T : class, IKubernetesObject<V1ObjectMeta> =>
        All<T>().FirstOrDefault(o => o.Metadata.Name == name);
}
