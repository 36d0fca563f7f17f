using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Services;

namespace Orchestrator.Node.Dns;

/// <summary>Where the node's cluster DNS listens, its domain, and the resolv.conf whose name servers get other names.</summary>
internal sealed record ClusterDnsOptions(IPEndPoint Listen, string ClusterDomain, string ResolvConf, int UpstreamPort = 53);

/// <summary>
/// The node's CoreDNS: answers A queries for <c>&lt;svc&gt;.&lt;ns&gt;.svc.&lt;domain&gt;</c> and its shorter forms
/// (<c>&lt;svc&gt;</c>, <c>&lt;svc&gt;.&lt;ns&gt;</c>, <c>&lt;svc&gt;.&lt;ns&gt;.svc</c> — for clients that query them without
/// the search path) from the <see cref="ServiceDirectory"/> — a headless service's name lists its ready endpoints, and
/// <c>&lt;hostname&gt;.&lt;svc&gt;.&lt;ns&gt;.svc.&lt;domain&gt;</c> names one of them (StatefulSet pods) — and forwards every other question to the upstream
/// servers of the resolv.conf file (re-read on each forward, so edits apply at once). Pods use it as their
/// nameserver (dnsPolicy ClusterFirst). UDP and TCP on the pod network's gateway address.
/// </summary>
internal sealed class ClusterDns : IDisposable
{
    private const int Ttl = 5;
    private readonly ClusterDnsOptions _options;
    private readonly ServiceDirectory _directory;
    private readonly ILogger<ClusterDns> _log;
    private readonly DomainName _clusterDomain;
    private DnsServer? _server;

    public ClusterDns(ClusterDnsOptions options, ServiceDirectory directory, ILogger<ClusterDns> log)
    {
        _options = options;
        _directory = directory;
        _log = log;
        _clusterDomain = DomainName.Parse(options.ClusterDomain);
    }

    /// <summary>Starts listening; false (and logged) when the address cannot be bound yet.</summary>
    public Task<bool> TryStartAsync()
    {
        if (_server is not null) return Task.FromResult(true);
        try
        {
            _server = new DnsServer(new UdpServerTransport(_options.Listen), new TcpServerTransport(_options.Listen));
            _server.QueryReceived += OnQueryReceived;
            _server.ExceptionThrown += (_, e) =>
            {
                _log.LogDebug(e.Exception, "Cluster DNS error");
                return Task.CompletedTask;
            };
            _server.Start();
            _log.LogInformation("Cluster DNS listening on {EndPoint} for {Domain}; upstreams from {ResolvConf}",
                _options.Listen, _options.ClusterDomain, _options.ResolvConf);
        }
        catch (Exception e)
        {
            // the node still runs pods without it; their lookups of service names fail
            _log.LogWarning("Cluster DNS could not listen on {EndPoint} yet: {Error}", _options.Listen, e.Message);
            try { _server?.Stop(); } catch (Exception) { }
            _server = null;
            return Task.FromResult(false);
        }
        return Task.FromResult(true);
    }

    private async Task OnQueryReceived(object sender, QueryReceivedEventArgs e)
    {
        if (e.Query is not DnsMessage query || query.Questions.Count != 1) return;
        e.Response = await AnswerAsync(query);
    }

    internal async Task<DnsMessage> AnswerAsync(DnsMessage query)
    {
        var question = query.Questions[0];
        var response = query.CreateResponseInstance();
        response.IsRecursionAllowed = true;
        if (Lookup(question.Name) is { } lookup)
        {
            response.IsAuthoritiveAnswer = true;
            if (lookup.Addresses is null) response.ReturnCode = ReturnCode.NxDomain;
            else if (question.RecordType is RecordType.A or RecordType.Any)
                foreach (var ip in lookup.Addresses)
                    response.AnswerRecords.Add(new ARecord(question.Name, Ttl, ip));
            // other types (AAAA…) of an existing name: NOERROR with no answers, so resolvers use the A record
            return response;
        }
        return await ForwardAsync(query, response);
    }

    /// <summary>Null when the name is not in the cluster's zone; otherwise the addresses (null = no such name).</summary>
    internal ServiceLookup? Lookup(DomainName name)
    {
        var labels = name.Labels.Select(l => l.ToLowerInvariant()).ToArray();
        var domain = _clusterDomain.Labels.Select(l => l.ToLowerInvariant()).ToArray();
        string[] rest;
        if (labels.Length >= domain.Length && labels[^domain.Length..].SequenceEqual(domain)) rest = labels[..^domain.Length];
        else if (labels.Length == 3 && labels[2] == "svc") rest = labels;   // <svc>.<ns>.svc
        else if (labels.Length == 2 && _directory.NamespaceHasServices(labels[1]))
            return new ServiceLookup(_directory.Addresses(labels[1], labels[0]));   // <svc>.<ns>
        else if (labels.Length == 1 && _directory.Addresses("default", labels[0]) is { } single)
            return new ServiceLookup(single);                                     // <svc> (default namespace)
        else return null;

        // within the zone: <svc>.<ns>.svc and <endpoint>.<svc>.<ns>.svc; anything else in it is NXDOMAIN
        return rest switch
        {
            [var svc, var ns, "svc"] => new ServiceLookup(_directory.Addresses(ns, svc)),
            [var endpoint, var svc, var ns, "svc"] => new ServiceLookup(_directory.EndpointAddresses(ns, svc, endpoint)),
            _ => new ServiceLookup(null),
        };
    }

    private async Task<DnsMessage> ForwardAsync(DnsMessage query, DnsMessage response)
    {
        var upstreams = ResolvConf.Nameservers(_options.ResolvConf)
            .Where(ip => !ip.Equals(_options.Listen.Address)) // never to ourselves
            .ToList();
        if (upstreams.Count > 0)
        {
            try
            {
                var client = new DnsClient(upstreams,
                    [new UdpClientTransport(_options.UpstreamPort), new TcpClientTransport(_options.UpstreamPort)],
                    false, 2000);
                var question = query.Questions[0];
                var upstream = await client.ResolveAsync(question.Name, question.RecordType, question.RecordClass);
                if (upstream is not null)
                {
                    response.ReturnCode = upstream.ReturnCode;
                    response.AnswerRecords.AddRange(upstream.AnswerRecords);
                    response.AuthorityRecords.AddRange(upstream.AuthorityRecords);
                    return response;
                }
            }
            catch (Exception e)
            {
                _log.LogDebug("Upstream DNS failed for {Name}: {Error}", query.Questions[0].Name, e.Message);
            }
        }
        response.ReturnCode = ReturnCode.ServerFailure;
        return response;
    }

    public void Dispose()
    {
        try { _server?.Stop(); } catch (Exception) { }
        _server = null;
    }
}

/// <summary>The answer for a name in the cluster's zone; <c>Addresses</c> null means the name does not exist.</summary>
internal sealed record ServiceLookup(IReadOnlyList<IPAddress>? Addresses);
