using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Orchestrator.Bench.Api;

// API benchmark: creates, gets, lists and watch fan-out against the master's API (in-process on SQLite by
// default, or a running master with --server/--token). Prints the command, throughput and p50/p99 latencies.
// Usage: bench-api [--objects N] [--concurrency C] [--lists L] [--watchers W] [--watch-events E]
//                  [--server https://127.0.0.1:6443 --token TOKEN [--spread-over https://…:6444,https://…:6445]]
//                  [--only get,list,table,watch,etcd,custom,mixed] [--get-rounds N] [--get-client invoker|httpclient] [--get-as admin|serviceaccount]
//                  [--watch-client threads|httpclient]
//        bench-api --serve PORT   (the in-process master alone, until stdin ends, for a bench in another process)
var options = BenchOptions.Parse(args);
if (options.Serve is { } servePort)
{
    await using var served = await InProcessMaster.StartAsync(servePort);
    Console.WriteLine($"serving {served.Address} (pid {Environment.ProcessId}, data {served.DataDirectory})");
    Console.WriteLine($"--server {served.Address} --token {served.Token}");
    var stop = new TaskCompletionSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
    _ = Task.Run(() => { while (Console.In.ReadLine() is not null) { } stop.TrySetResult(); });
    await stop.Task;
    return;
}
Console.WriteLine("$ dotnet run -c Release --project bench/api -- " + string.Join(' ', args));
Console.WriteLine($"objects={options.Objects} concurrency={options.Concurrency} lists={options.Lists} " +
                  $"watchers={options.Watchers} watch-events={options.WatchEvents} cores={Environment.ProcessorCount}");

InProcessMaster? master = null;
Uri server;
string token;
if (options.Server is { } url)
{
    server = new Uri(url);
    token = options.Token ?? throw new ArgumentException("--token is required with --server");
    Console.WriteLine($"target: running master at {server}");
}
else
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    var port = ((IPEndPoint)listener.LocalEndpoint).Port;
    listener.Stop();
    master = await InProcessMaster.StartAsync(port);
    server = master.Address;
    token = master.Token;
    Console.WriteLine($"target: in-process master (API + ObjectStore on SQLite in {master.DataDirectory})");
}

try
{
    var runner = new ApiBench(server, token, options);
    await runner.RunAsync();
}
finally
{
    if (master is not null) await master.DisposeAsync();
}
