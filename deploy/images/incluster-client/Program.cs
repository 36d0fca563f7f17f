using k8s;
using k8s.Autorest;

// Lists the pods of its own namespace with the pod's ServiceAccount (InClusterConfig: the token, ca.crt and namespace
// under /var/run/secrets/kubernetes.io/serviceaccount, KUBERNETES_SERVICE_HOST/PORT), then prints one line:
// "LISTED <n>: names" or "DENIED <code>: <message>". Repeats every few seconds when given --loop.
var loop = args.Contains("--loop");
do
{
    try
    {
        var config = KubernetesClientConfiguration.InClusterConfig();
        using var client = new Kubernetes(config);
        var pods = await client.CoreV1.ListNamespacedPodAsync(config.Namespace);
        Console.WriteLine($"LISTED {pods.Items.Count}: {string.Join(",", pods.Items.Select(p => p.Metadata.Name))}");
    }
    catch (HttpOperationException e)
    {
        Console.WriteLine($"DENIED {(int)e.Response.StatusCode}: {e.Response.Content}");
    }
    catch (Exception e)
    {
        Console.WriteLine($"ERROR {e.GetType().Name}: {e.Message}");
    }
    if (loop) await Task.Delay(TimeSpan.FromSeconds(3));
} while (loop);
