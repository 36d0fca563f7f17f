using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// The proxy's listening sockets, as a Kestrel configuration section ("Endpoints:&lt;name&gt;:Url") that Kestrel
/// watches with <c>KestrelServerOptions.Configure(section, reloadOnChange: true)</c>: replacing the set fires the
/// reload token, and Kestrel stops the removed endpoints and binds the new ones without a restart. (A bind failure
/// — port in use — is logged by Kestrel and leaves the other endpoints alone.)
/// </summary>
internal sealed class Listeners : ConfigurationProvider, IConfigurationSource
{
    private IReadOnlySet<IPEndPoint> _current = new HashSet<IPEndPoint>();
    private IReadOnlySet<IPEndPoint> _https = new HashSet<IPEndPoint>();

    public Listeners() => Configuration = new ConfigurationBuilder().Add(this).Build();

    /// <summary>The configuration Kestrel watches.</summary>
    public IConfigurationRoot Configuration { get; }

    public IReadOnlySet<IPEndPoint> Current => _current;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>Replaces the listening set; a no-op (no reload) when it is unchanged.</summary>
    public bool Replace(IEnumerable<IPEndPoint> endPoints, IEnumerable<IPEndPoint>? httpsEndPoints = null)
    {
        var https = (httpsEndPoints ?? []).ToHashSet();
        var next = endPoints.Concat(https).ToHashSet();
        if (next.SetEquals(_current) && https.SetEquals(_https)) return false;
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        // HTTPS endpoints take their certificate from Kestrel's HTTPS defaults (the ingress certificate selector)
        foreach (var ep in next)
            data[$"Endpoints:{Name(ep)}:Url"] = $"{(https.Contains(ep) ? "https" : "http")}://{ep.Address}:{ep.Port.ToString(CultureInfo.InvariantCulture)}";
        _https = https;
        Data = data;
        _current = next;
        OnReload();
        return true;
    }

    private static string Name(IPEndPoint ep) => $"svc-{ep.Address.ToString().Replace('.', '-').Replace(':', '-')}-{ep.Port}";
}
