using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers.Workloads;

/// <summary>The controller test kit with an assertion that also hands back what it found.</summary>
public abstract class WorkloadTestKit(ITestOutputHelper output) : ControllerTestKit(output)
{
    /// <summary>Retries <paramref name="find"/> until it stops throwing, and returns its last value.</summary>
    protected T AwaitAssertReturn<T>(Func<T> find, TimeSpan? duration = null)
    {
        T value = default!;
        AwaitAssert(() => value = find(), duration);
        return value;
    }

    /// <summary>Changes an object's spec as a client would, reading it again when the controller wrote in between.</summary>
    protected void Modify<T>(string name, Action<T> change) where T : class, IKubernetesObject<V1ObjectMeta> =>
        AwaitAssert(() =>
        {
            var obj = Find<T>(name)!;
            change(obj);
            Write(new UpdateObject(ResourceOf(typeof(T)), obj));
        });
}
