using System.Diagnostics;
using System.Net.Http;
using System.Text;
using k8s;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// kubectl port-forward against a real cluster: kubectl 1.32 tunnels SPDY over a WebSocket to the API server, which
/// relays it to the node that runs the pod; the node dials the pod's port. The demo image answers with its host
/// name (= pod name), so every answer shows which pod served it. kubectl runs in the background for each step and is
/// stopped at its end; the deployment and service are deleted at the end. The C# client's port forwarding (the
/// WebSocket channel protocol, v4.channel.k8s.io) goes the same way.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
[Collection(SharedClusterCollection.Name)]
public sealed class PortForwardTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly string App = $"pf-{Guid.NewGuid().ToString("N")[..6]}";

    [Fact, Step(1)]
    public async Task Port_forward_to_a_pod_serves_sequential_and_concurrent_connections_from_that_pod()
    {
        await Apply($$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: {{App}} }
            spec:
              replicas: 1
              selector: { matchLabels: { app: {{App}} } }
              template:
                metadata: { labels: { app: {{App}} } }
                spec:
                  containers:
                  - name: web
                    image: katacoda/docker-http-server:latest
                    imagePullPolicy: Never
                    ports: [ { name: http, containerPort: 80 } ]
            ---
            apiVersion: v1
            kind: Service
            metadata: { name: {{App}} }
            spec:
              selector: { app: {{App}} }
              ports: [ { name: web, port: 8080, targetPort: http } ]
            """);
        var pod = await RunningPod();

        await using var forward = await PortForward($"pod/{pod}", "18080:80");
        for (var i = 0; i < 5; i++)
            Assert.Equal(pod, await ServedHost(18080));
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ServedHost(18080)));
        Assert.All(concurrent, host => Assert.Equal(pod, host));
        // one connection, several requests on it
        using var keepAlive = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        for (var i = 0; i < 3; i++)
            Assert.Equal(pod, await DemoPage.ServedHost(keepAlive, "http://127.0.0.1:18080/"));
        Assert.DoesNotContain("error", forward.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact, Step(2)]
    public async Task Port_forward_to_a_deployment_and_a_service_reaches_their_pod()
    {
        var pod = await RunningPod();

        await using (await PortForward($"deployment/{App}", "18081:80"))
        {
            Assert.Equal(pod, await ServedHost(18081));
            Assert.Equal(pod, await ServedHost(18081));
        }
        // kubectl maps the service port 8080 to the pod's port (named targetPort "http" = 80) itself
        await using (await PortForward($"svc/{App}", "18082:8080"))
            Assert.Equal(pod, await ServedHost(18082));
    }

    [Fact, Step(3)]
    public async Task Plain_spdy_port_forward_works_too()
    {
        var pod = await RunningPod();

        // what kubectl falls back to, and what older kubectl speaks by default
        await using var forward = await PortForward($"pod/{pod}", "18085:80", websockets: false);
        for (var i = 0; i < 3; i++)
            Assert.Equal(pod, await ServedHost(18085));
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ServedHost(18085)));
        Assert.All(concurrent, host => Assert.Equal(pod, host));
    }

    [Fact, Step(4)]
    public async Task Errors_a_missing_pod_and_a_port_nothing_listens_on()
    {
        var missing = await cluster.Kubectl("port-forward", $"pod/{App}-missing", "18083:80");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("NotFound", missing.Error);

        var pod = await RunningPod();
        await using var forward = await PortForward($"pod/{pod}", "18084:81");
        await Assert.ThrowsAnyAsync<Exception>(() => ServedHost(18084));
        await cluster.Eventually(() =>
        {
            Assert.Contains("error forwarding port 81 to pod", forward.Output);
            return Task.CompletedTask;
        }, "kubectl reports the refused port", TimeSpan.FromSeconds(20));
    }

    [Fact, Step(5)]
    public async Task The_csharp_client_forwards_over_the_v4_channel_protocol()
    {
        var pod = await RunningPod();
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(cluster.KubeConfig, currentContext: ClusterFixture.Context);
        using var client = new Kubernetes(config);

        using var socket = await client.WebSocketNamespacedPodPortForwardAsync(pod, "default", [80], "v4.channel.k8s.io");
        using var demux = new StreamDemuxer(socket, StreamType.PortForward);
        demux.Start();
        var stream = demux.GetStream((byte?)0, (byte?)0);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.0\r\nHost: pod\r\n\r\n"));

        var page = new StringBuilder();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!DemoPage.HostPage.IsMatch(page.ToString()))
        {
            var n = await stream.ReadAsync(buffer, timeout.Token);
            Assert.True(n > 0, $"the forwarded connection ended early: {page}");
            page.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        Assert.Equal(pod, DemoPage.HostPage.Match(page.ToString()).Groups[1].Value);
    }

    [Fact, Step(6)]
    public async Task Clean_up()
    {
        await cluster.Kubectl("delete", "deployment", App, "--wait=false");
        await cluster.Kubectl("delete", "service", App);
    }

    [Fact, Step(7)]
    public async Task Pod_and_service_proxies_reach_the_pod_through_get_raw_and_kubectl_proxy()
    {
        // its own deployment and service, so that it runs alone too
        var app = App + "-px";
        await Apply($$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: {{app}} }
            spec:
              replicas: 1
              selector: { matchLabels: { app: {{app}} } }
              template:
                metadata: { labels: { app: {{app}} } }
                spec:
                  containers:
                  - name: web
                    image: katacoda/docker-http-server:latest
                    imagePullPolicy: Never
                    ports: [ { name: http, containerPort: 80 } ]
            ---
            apiVersion: v1
            kind: Service
            metadata: { name: {{app}} }
            spec:
              selector: { app: {{app}} }
              ports: [ { name: web, port: 8080, targetPort: http } ]
            """);
        try
        {
            var pod = await RunningPod(app);
            // the pod's first container port, or the one named; the service's port by name or number
            foreach (var path in new[]
                     {
                         $"pods/{pod}/proxy/", $"pods/{pod}:80/proxy/", $"pods/http:{pod}:80/proxy/?x=1",
                         $"services/{app}:web/proxy/", $"services/{app}:8080/proxy/",
                     })
            {
                var served = "";
                await cluster.Eventually(async () =>
                {
                    var result = await cluster.Kubectl("get", "--raw", $"/api/v1/namespaces/default/{path}");
                    Assert.True(result.ExitCode == 0, result.ToString());
                    served = DemoPage.HostPage.Match(result.Output).Groups[1].Value;
                    Assert.Equal(pod, served);
                }, $"GET {path}", TimeSpan.FromSeconds(30));
            }
            // a service whose only port has a name is not proxied without it, as in Kubernetes
            var unnamed = await cluster.Kubectl("get", "--raw", $"/api/v1/namespaces/default/services/{app}/proxy/");
            Assert.NotEqual(0, unnamed.ExitCode);
            Assert.Contains($"no endpoints available for service \"{app}\"", unnamed.Error);

            // the Kubernetes Basics tutorial's way: kubectl proxy, then curl
            await using var proxy = BackgroundKubectl.Start(cluster, output, true, "proxy", "--port=18090");
            await cluster.Eventually(() =>
            {
                Assert.False(proxy.HasExited, $"kubectl proxy exited: {proxy.Output}");
                Assert.Contains("Starting to serve on 127.0.0.1:18090", proxy.Output);
                return Task.CompletedTask;
            }, "kubectl proxy listening", TimeSpan.FromSeconds(30));
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
            Assert.Equal(pod, await DemoPage.ServedHost(http, $"http://127.0.0.1:18090/api/v1/namespaces/default/pods/{pod}:80/proxy/"));
            // without the final slash: redirected to it
            Assert.Equal(pod, await DemoPage.ServedHost(http, $"http://127.0.0.1:18090/api/v1/namespaces/default/services/{app}:web/proxy"));
        }
        finally
        {
            await cluster.Kubectl("delete", "deployment", app, "--wait=false");
            await cluster.Kubectl("delete", "service", app);
        }
    }

    /// <summary>A WebSocket server in busybox, one shell per connection (nc -ll -e): it answers the handshake (the accept key
    /// from sha1sum, xxd and base64), waits for the client's first frame ("ping", masked: 10 bytes), answers "pong" in an
    /// unmasked text frame and closes — so the test sees bytes pass both ways, in order.</summary>
    private const string WebSocketScript = """
        key=""
        while IFS= read -r line; do
          line=$(printf '%s' "$line" | tr -d '\r')
          [ -z "$line" ] && break
          case "$line" in [Ss]ec-[Ww]eb[Ss]ocket-[Kk]ey:*) key=$(printf '%s' "${line#*:}" | tr -d ' ');; esac
        done
        accept=$(printf '%s' "${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11" | sha1sum | cut -d' ' -f1 | xxd -r -p | base64)
        printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n' "$accept"
        head -c 10 >/dev/null
        printf '\201\004pong\210\002\003\350'
        """;

    [Fact, Step(8)]
    public async Task A_websocket_in_a_pod_is_reached_through_the_pod_and_service_proxies()
    {
        var app = App + "-ws";
        await Apply($$"""
            apiVersion: v1
            kind: Pod
            metadata: { name: {{app}}, labels: { app: {{app}} } }
            spec:
              containers:
              - name: ws
                image: busybox:latest
                imagePullPolicy: Never
                env: [ { name: SCRIPT, value: {{System.Text.Json.JsonSerializer.Serialize(WebSocketScript)}} } ]
                command: [ "sh", "-c", "printf '%s' \"$SCRIPT\" > /tmp/ws.sh && exec nc -ll -p 8080 -e sh /tmp/ws.sh" ]
                ports: [ { name: ws, containerPort: 8080 } ]
            ---
            apiVersion: v1
            kind: Service
            metadata: { name: {{app}} }
            spec:
              selector: { app: {{app}} }
              ports: [ { name: ws, port: 80, targetPort: ws } ]
            """);
        try
        {
            await cluster.Eventually(async () =>
            {
                var ready = await cluster.Kubectl("get", "endpoints", app, "-o", "jsonpath={.subsets[*].addresses[*].ip}");
                Assert.True(ready.Output.Trim().Length > 0, ready.ToString());
            }, "the pod ready behind its service", TimeSpan.FromSeconds(180));

            // through kubectl proxy (it passes the upgrade on with its credential), to the pod and to the service
            await using var proxy = BackgroundKubectl.Start(cluster, output, true, "proxy", "--port=18091");
            await cluster.Eventually(() =>
            {
                Assert.Contains("Starting to serve on 127.0.0.1:18091", proxy.Output);
                return Task.CompletedTask;
            }, "kubectl proxy listening", TimeSpan.FromSeconds(30));
            // (Running is not yet listening: the first answer may be "error dialing backend")
            await cluster.Eventually(async () =>
                Assert.Equal("pong", await PingAsync(new Uri($"ws://127.0.0.1:18091/api/v1/namespaces/default/pods/{app}/proxy/ws"), null)),
                "the pod's WebSocket through kubectl proxy", TimeSpan.FromSeconds(60));
            Assert.Equal("pong", await PingAsync(new Uri($"ws://127.0.0.1:18091/api/v1/namespaces/default/services/{app}:ws/proxy/ws"), null));

            // directly, with a ServiceAccount's token that may only get pods/proxy and services/proxy (kube 1.32 asks
            // for the verb of the method: get)
            await Apply($$"""
                apiVersion: v1
                kind: ServiceAccount
                metadata: { name: {{app}} }
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: Role
                metadata: { name: {{app}} }
                rules: [ { apiGroups: [""], resources: ["pods/proxy", "services/proxy"], verbs: ["get"] } ]
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata: { name: {{app}} }
                roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: {{app}} }
                subjects: [ { kind: ServiceAccount, name: {{app}}, namespace: default } ]
                """);
            var token = (await cluster.Kubectl("create", "token", app)).Output.Trim();
            var server = (await cluster.Kubectl("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")).Output.Trim();
            var wss = new UriBuilder(server) { Scheme = "wss" }.Uri;
            Assert.Equal("pong", await PingAsync(new Uri(wss, $"/api/v1/namespaces/default/services/{app}:80/proxy/ws"), token));
            Assert.Equal("pong", await PingAsync(new Uri(wss, $"/api/v1/namespaces/default/pods/{app}:8080/proxy/ws"), token));

            // a closed port: a Status, not a hang
            using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true })
                { Timeout = TimeSpan.FromSeconds(30) };
            using var closed = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(server) { Path = $"/api/v1/namespaces/default/pods/{app}:8081/proxy/ws" }.Uri);
            closed.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            closed.Headers.Connection.Add("Upgrade");
            closed.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("websocket"));
            using var refused = await http.SendAsync(closed);
            var status = await refused.Content.ReadAsStringAsync();
            Assert.True((int)refused.StatusCode == 500, status);
            Assert.Contains("error dialing backend", status);
        }
        finally
        {
            await cluster.Kubectl("delete", "pod,service,serviceaccount,role,rolebinding", app, "--wait=false");
        }
    }

    /// <summary>Sends "ping" over a WebSocket at <paramref name="uri"/> and returns the answer.</summary>
    private static async Task<string> PingAsync(Uri uri, string? token)
    {
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        if (token is not null) socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await socket.ConnectAsync(uri, timeout.Token);
        }
        catch (System.Net.WebSockets.WebSocketException)
        {
            // the refusal's Status, to say why
            using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
            using var request = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(uri) { Scheme = uri.Scheme == "wss" ? "https" : "http" }.Uri);
            if (token is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            request.Headers.Connection.Add("Upgrade");
            request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("websocket"));
            request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");
            request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
            using var response = await http.SendAsync(request);
            throw new Xunit.Sdk.XunitException($"{uri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        await socket.SendAsync("ping"u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[64];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }

    private async Task Apply(string yaml)
    {
        var result = await cluster.KubectlWithInput(yaml, "apply", "-f", "-");
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    private Task<string> RunningPod() => RunningPod(App);

    private async Task<string> RunningPod(string app)
    {
        var name = "";
        await cluster.Eventually(async () =>
        {
            var result = await cluster.Kubectl("get", "pods", "-l", $"app={app}", "--field-selector", "status.phase=Running",
                "-o", "jsonpath={.items[*].metadata.name}");
            var names = result.Output.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(names.Length == 1, $"running pods: [{result.Output}] {result.Error}");
            name = names[0];
        }, "one running pod of the deployment");
        return name;
    }

    /// <summary>The host on the demo page at 127.0.0.1:<paramref name="port"/>, on a new connection each time.</summary>
    private static async Task<string> ServedHost(int port)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.ConnectionClose = true;
        return await DemoPage.ServedHost(http, $"http://127.0.0.1:{port}/");
    }

    private async Task<BackgroundKubectl> PortForward(string target, string ports, bool websockets = true)
    {
        var forward = BackgroundKubectl.Start(cluster, output, websockets, "port-forward", target, ports);
        var local = ports.Split(':')[0];
        await cluster.Eventually(() =>
        {
            Assert.False(forward.HasExited, $"kubectl port-forward exited: {forward.Output}");
            Assert.Contains($"Forwarding from 127.0.0.1:{local}", forward.Output);
            return Task.CompletedTask;
        }, $"kubectl port-forward {target} {ports} listening", TimeSpan.FromSeconds(30));
        return forward;
    }

    /// <summary>A kubectl that runs until disposed; its stdout and stderr are collected in <see cref="Output"/>.</summary>
    private sealed class BackgroundKubectl : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly ITestOutputHelper _log;

        private BackgroundKubectl(Process process, ITestOutputHelper log)
        {
            _process = process;
            _log = log;
        }

        public bool HasExited => _process.HasExited;

        public string Output
        {
            get { lock (_output) return _output.ToString(); }
        }

        public static BackgroundKubectl Start(ClusterFixture cluster, ITestOutputHelper log, bool websockets, params string[] args)
        {
            var start = new ProcessStartInfo("kubectl")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in (string[])["--context", ClusterFixture.Context, .. args]) start.ArgumentList.Add(arg);
            foreach (var (key, value) in cluster.Environment) start.Environment[key] = value;
            start.Environment["KUBECTL_PORT_FORWARD_WEBSOCKETS"] = websockets ? "true" : "false";
            var process = new Process { StartInfo = start };
            var kubectl = new BackgroundKubectl(process, log);
            process.OutputDataReceived += (_, e) => kubectl.Append(e.Data);
            process.ErrorDataReceived += (_, e) => kubectl.Append(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return kubectl;
        }

        private void Append(string? line)
        {
            if (line is null) return;
            lock (_output) _output.AppendLine(line);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _log.WriteLine($"kubectl {string.Join(" ", _process.StartInfo.ArgumentList)}:\n{Output}");
            _process.Dispose();
        }
    }
}
