using Akka.TestKit;
using k8s.Models;

namespace Orchestrator.Node.Tests.Agent;

internal static class TestPods
{
    public static V1Pod Pod(string name, string image = "web:1", string restartPolicy = "Always", params string[] containers) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
        Spec = new V1PodSpec
        {
            NodeName = "node-a",
            RestartPolicy = restartPolicy,
            TerminationGracePeriodSeconds = 5,
            Containers = (containers.Length == 0 ? ["app"] : containers)
                .Select(c => new V1Container { Name = c, Image = image, Ports = [new V1ContainerPort { ContainerPort = 80 }] })
                .ToList(),
        },
    };

    /// <summary>Receives until a message of type <typeparamref name="T"/> satisfies <paramref name="match"/>; other messages are skipped.</summary>
    public static T Expect<T>(this TestProbe probe, Func<T, bool> match, TimeSpan? within = null)
    {
        // A generous default: it only bounds how long a failing test waits, and 5 s was missed once under a load of 50+.
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(15));
        var seen = new List<string>();
        while (DateTime.UtcNow < deadline)
        {
            var message = probe.ReceiveOne(deadline - DateTime.UtcNow);
            if (message is T t && match(t)) return t;
            if (message is not null) seen.Add(message.GetType().Name);
        }
        throw new Xunit.Sdk.XunitException($"no matching {typeof(T).Name} within the time limit; saw [{string.Join(", ", seen)}]");
    }
}
