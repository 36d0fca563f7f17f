using Orchestrator.Node.Tests.Services;
using System.Net;
using k8s.Models;
using Orchestrator.Node.Proxy;
using Orchestrator.Node.Proxy.Ingress;
using Orchestrator.Shared.Api;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Proxy.Ingress;

public sealed class IngressRoutesTests
{
    private static readonly V1Service[] Services =
    [
        Service("a", ("http", 80)), Service("b", ("http", 80)), Service("c", ("", 8080)), Service("fallback", ("web", 80)),
    ];

    private static V1Service Service(string name, params (string Name, int Port)[] ports) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1ServiceSpec { Ports = ports.Select(p => new V1ServicePort { Name = p.Name.Length == 0 ? null : p.Name, Port = p.Port }).ToList() },
    };

    private static V1HTTPIngressPath Path(string path, string type, string service, string? portName = "http", int? number = null) => new()
    {
        Path = path, PathType = type,
        Backend = new V1IngressBackend { Service = new V1IngressServiceBackend { Name = service, Port = new V1ServiceBackendPort { Name = portName, Number = number } } },
    };

    private static V1Ingress Ingress(string name, DateTime created, IEnumerable<V1IngressRule> rules, V1IngressBackend? defaultBackend = null,
        IDictionary<string, string>? annotations = null, IList<V1IngressTLS>? tls = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", CreationTimestamp = created, Annotations = annotations },
        Spec = new V1IngressSpec { Rules = rules.ToList(), DefaultBackend = defaultBackend, Tls = tls },
    };

    private static V1IngressRule Rule(string? host, params V1HTTPIngressPath[] paths) =>
        new() { Host = host, Http = new V1HTTPIngressRuleValue { Paths = paths } };

    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData("/foo", "/foo", true)]
    [InlineData("/foo", "/foo/", true)]
    [InlineData("/foo", "/foo/bar", true)]
    [InlineData("/foo", "/foobar", false)]
    [InlineData("/foo/", "/foo", true)]
    [InlineData("/aaa/bb", "/aaa/bbb", false)]
    [InlineData("/aaa/bbb", "/aaa/bbb/ccc", true)]
    [InlineData("/", "/anything", true)]
    [InlineData("/foo/bar", "/foo", false)]
    public void Prefix_paths_match_element_wise(string prefix, string path, bool matches) =>
        Assert.Equal(matches, IngressRoutes.PrefixMatches(prefix, path));

    [Fact]
    public void The_longest_matching_path_wins_and_Exact_beats_Prefix_of_the_same_length()
    {
        var routes = IngressRoutes.Build([Ingress("i", T0, [Rule("x.test", Path("/", "Prefix", "a"), Path("/api", "Prefix", "b"), Path("/api", "Exact", "c", null, 8080))])], Services);
        Assert.Equal("default/a:http", routes.Match("x.test", "/other")!.ClusterId);
        Assert.Equal("default/b:http", routes.Match("x.test", "/api/v1")!.ClusterId);
        Assert.Equal("default/c:8080", routes.Match("x.test", "/api")!.ClusterId);
    }

    [Fact]
    public void Exact_hosts_come_before_wildcards_and_a_wildcard_covers_one_label_only()
    {
        var routes = IngressRoutes.Build([Ingress("i", T0, [
            Rule("*.example.test", Path("/", "Prefix", "a")),
            Rule("www.example.test", Path("/", "Prefix", "b")),
        ])], Services);
        Assert.Equal("default/b:http", routes.Match("www.example.test", "/")!.ClusterId);
        Assert.Equal("default/a:http", routes.Match("shop.example.test", "/")!.ClusterId);
        Assert.Equal("default/a:http", routes.Match("SHOP.Example.Test", "/")!.ClusterId);
        Assert.Null(routes.Match("a.b.example.test", "/"));
        Assert.Null(routes.Match("example.test", "/"));
    }

    [Fact]
    public void Without_a_matching_rule_the_default_backend_serves_and_without_one_nothing_matches()
    {
        var fallback = new V1IngressBackend { Service = new V1IngressServiceBackend { Name = "fallback", Port = new V1ServiceBackendPort { Name = "web" } } };
        var with = IngressRoutes.Build([Ingress("i", T0, [Rule("x.test", Path("/app", "Exact", "a"))], fallback)], Services);
        Assert.Equal("default/fallback:web", with.Match("x.test", "/app/more")!.ClusterId);
        Assert.Equal("default/fallback:web", with.Match("y.test", "/")!.ClusterId);
        var without = IngressRoutes.Build([Ingress("i", T0, [Rule("x.test", Path("/app", "Exact", "a"))])], Services);
        Assert.Null(without.Match("x.test", "/app/more"));
    }

    [Fact]
    public void Paths_of_one_host_merge_across_ingresses_and_the_older_ingress_wins_a_tie()
    {
        var routes = IngressRoutes.Build([
            Ingress("newer", T0.AddMinutes(1), [Rule("x.test", Path("/", "Prefix", "b"), Path("/b", "Prefix", "b"))]),
            Ingress("older", T0, [Rule("x.test", Path("/", "Prefix", "a"))]),
        ], Services);
        Assert.Equal("default/a:http", routes.Match("x.test", "/")!.ClusterId);
        Assert.Equal("default/b:http", routes.Match("x.test", "/b/1")!.ClusterId);
    }

    [Fact]
    public void Backends_resolve_by_port_name_or_number_and_a_missing_service_is_a_problem()
    {
        var routes = IngressRoutes.Build([Ingress("i", T0, [Rule(null,
            Path("/n", "Prefix", "c", null, 8080), Path("/m", "Prefix", "missing"), Path("/p", "Prefix", "a", "nope"))])], Services);
        Assert.Equal("default/c:8080", routes.Match("any", "/n")!.ClusterId);
        Assert.Contains("not found", routes.Match("any", "/m")!.Problem);
        Assert.Null(routes.Match("any", "/p")!.ClusterId);
        Assert.Equal(2, routes.Skipped.Count);
    }

    [Fact]
    public void ImplementationSpecific_is_a_prefix()
    {
        var routes = IngressRoutes.Build([Ingress("i", T0, [Rule(null, Path("/docs", "ImplementationSpecific", "a"))])], Services);
        Assert.NotNull(routes.Match("h", "/docs/page"));
        Assert.Null(routes.Match("h", "/docsx"));
    }

    [Fact]
    public void TLS_hosts_pick_their_secret_by_server_name_and_mark_routes_for_redirect()
    {
        var routes = IngressRoutes.Build([Ingress("i", T0, [Rule("x.test", Path("/", "Prefix", "a")), Rule("plain.test", Path("/", "Prefix", "a"))],
            tls: [new V1IngressTLS { Hosts = ["x.test", "*.wild.test"], SecretName = "cert" }])], Services);
        Assert.Equal("default/cert", routes.CertificateFor("x.test"));
        Assert.Equal("default/cert", routes.CertificateFor("a.wild.test"));
        Assert.Null(routes.CertificateFor("plain.test"));
        Assert.True(routes.Match("x.test", "/")!.Tls);
        Assert.False(routes.Match("plain.test", "/")!.Tls);
    }

    [Fact]
    public void Annotations_set_rewrite_timeout_body_size_and_redirect_and_others_are_reported()
    {
        var skipped = new List<string>();
        var options = IngressRoutes.Annotations(new Dictionary<string, string>
        {
            [IngressAnnotations.RewriteTarget] = "/", [IngressAnnotations.ProxyReadTimeout] = "5", [IngressAnnotations.ProxyBodySize] = "8m",
            [IngressAnnotations.SslRedirect] = "false", ["orchestrator.dev/whitelist"] = "true", ["nginx.ingress.kubernetes.io/x"] = "y",
        }, "default/i", skipped);
        Assert.Equal(new IngressOptions("/", TimeSpan.FromSeconds(5), 8 * 1024 * 1024, false), options);
        Assert.Single(skipped);
    }

    [Fact]
    public void Affinity_backend_protocol_and_canary_annotations_are_read_with_nginxs_defaults()
    {
        var skipped = new List<string>();
        var options = IngressRoutes.Annotations(new Dictionary<string, string>
        {
            [IngressAnnotations.Affinity] = "cookie", [IngressAnnotations.SessionCookieMaxAge] = "3600", [IngressAnnotations.BackendProtocol] = "grpc",
            [IngressAnnotations.Canary] = "true", [IngressAnnotations.CanaryWeight] = "20",
        }, "default/i", skipped);
        Assert.Empty(skipped);
        Assert.Equal(new AffinityCookie("INGRESSCOOKIE", "/", TimeSpan.FromHours(1)), options.Affinity);
        Assert.True(options.Grpc);
        Assert.Equal(new CanaryOptions(20, null), options.Canary);
        Assert.Equal("default/a:http@affinity=INGRESSCOOKIE;/;3600@grpc", options.ClusterIdFor("default/a:http"));
        Assert.Equal("default/a:http", IngressOptions.Default.ClusterIdFor("default/a:http"));
    }

    [Theory]
    [InlineData("orchestrator.dev/canary-weight", "101", "annotation orchestrator.dev/canary-weight: '101' is not a valid value")]
    [InlineData("orchestrator.dev/affinity", "ip", "annotation orchestrator.dev/affinity: 'ip' is not a valid value")]
    [InlineData("orchestrator.dev/backend-protocol", "FCGI", "annotation orchestrator.dev/backend-protocol: 'FCGI' is not a valid value")]
    [InlineData("orchestrator.dev/whitelist-source-range", "10.0.0.0/8", "annotation orchestrator.dev/whitelist-source-range is not supported (supported: ")]
    [InlineData("orchestrator.dev/canary-weight", "0", null)]
    [InlineData("orchestrator.dev/session-cookie-name", "route", null)]
    [InlineData("orchestrator.dev/backend-protocol", "HTTPS", null)]
    [InlineData("orchestrator.dev/backend-protocol", "GRPCS", null)]
    [InlineData("orchestrator.dev/backend-protocol", "AUTO_HTTP", "annotation orchestrator.dev/backend-protocol: 'AUTO_HTTP' is not a valid value")]
    [InlineData("orchestrator.dev/use-regex", "true", null)]
    [InlineData("orchestrator.dev/use-regex", "yes", "annotation orchestrator.dev/use-regex: 'yes' is not a valid value")]
    [InlineData("orchestrator.dev/canary-by-cookie", "canary_user", null)]
    [InlineData("orchestrator.dev/canary-by-cookie", "a;b", "annotation orchestrator.dev/canary-by-cookie: 'a;b' is not a valid value")]
    public void Problems_name_the_annotation_and_what_is_wrong(string key, string value, string? problem)
    {
        if (problem is null) Assert.Null(IngressAnnotations.Problem(key, value));
        else Assert.StartsWith(problem, IngressAnnotations.Problem(key, value));
    }

    [Fact]
    public void A_canary_joins_the_main_route_of_its_host_and_path_and_one_without_a_main_route_is_reported()
    {
        var canary = new Dictionary<string, string> { [IngressAnnotations.Canary] = "true", [IngressAnnotations.CanaryWeight] = "30", [IngressAnnotations.CanaryByHeader] = "X-Canary" };
        var routes = IngressRoutes.Build(
        [
            Ingress("main", T0, [Rule("x.test", Path("/", "Prefix", "a"))]),
            Ingress("canary", T0.AddSeconds(1), [Rule("x.test", Path("/", "Prefix", "b"), Path("/only-here", "Prefix", "b"))], annotations: canary),
        ], Services);
        var route = routes.Match("x.test", "/anything")!;
        Assert.Equal("default/a:http", route.ClusterId);
        Assert.Equal(new IngressCanary("default/canary", "default/b:http", new CanaryOptions(30, "X-Canary")), route.Canary);
        Assert.Equal("default/a:http", routes.Match("x.test", "/only-here")!.ClusterId); // the canary's own path is not served
        Assert.Single(routes.Skipped, s => s.Contains("/only-here", StringComparison.Ordinal));

        string? None(string _) => null;
        Assert.Equal("default/b:http", IngressRoutes.ClusterFor(route, None, None, 29));
        Assert.Equal("default/a:http", IngressRoutes.ClusterFor(route, None, None, 30));
        Assert.Equal("default/b:http", IngressRoutes.ClusterFor(route, _ => "always", None, 99));
        Assert.Equal("default/a:http", IngressRoutes.ClusterFor(route, _ => "never", None, 0));
        Assert.Equal("default/a:http", IngressRoutes.ClusterFor(route, _ => "other", None, 50));
    }

    [Fact]
    public void Canary_by_cookie_comes_after_the_header_and_before_the_weight()
    {
        var canary = new Dictionary<string, string>
        {
            [IngressAnnotations.Canary] = "true", [IngressAnnotations.CanaryWeight] = "50",
            [IngressAnnotations.CanaryByHeader] = "X-Canary", [IngressAnnotations.CanaryByCookie] = "canary",
        };
        var routes = IngressRoutes.Build(
        [
            Ingress("main", T0, [Rule("x.test", Path("/", "Prefix", "a"))]),
            Ingress("canary", T0.AddSeconds(1), [Rule("x.test", Path("/", "Prefix", "b"))], annotations: canary),
        ], Services);
        var route = routes.Match("x.test", "/")!;
        Assert.Equal(new CanaryOptions(50, "X-Canary", "canary"), route.Canary!.Options);

        Func<string, string?> Has(string name, string value) => n => n == name ? value : null;
        string? None(string _) => null;
        Assert.Equal("default/b:http", IngressRoutes.ClusterFor(route, None, Has("canary", "always"), 99));
        Assert.Equal("default/a:http", IngressRoutes.ClusterFor(route, None, Has("canary", "never"), 0));
        Assert.Equal("default/a:http", IngressRoutes.ClusterFor(route, None, Has("other", "always"), 50)); // another cookie: the weight
        Assert.Equal("default/b:http", IngressRoutes.ClusterFor(route, None, Has("canary", "maybe"), 49));
        // the header decides before the cookie
        Assert.Equal("default/a:http", IngressRoutes.ClusterFor(route, Has("X-Canary", "never"), Has("canary", "always"), 0));
        Assert.Equal("default/b:http", IngressRoutes.ClusterFor(route, Has("X-Canary", "always"), Has("canary", "never"), 99));
    }

    [Fact]
    public void Use_regex_makes_the_hosts_implementation_specific_paths_case_insensitive_regexes_anchored_at_the_start()
    {
        var regex = new Dictionary<string, string> { [IngressAnnotations.UseRegex] = "true" };
        var routes = IngressRoutes.Build(
        [
            Ingress("re", T0, [Rule("x.test", Path("/api/v[0-9]+/users", "ImplementationSpecific", "a"))], annotations: regex),
            // another Ingress of the host without the annotation: its ImplementationSpecific paths are regexes too (nginx)
            Ingress("other", T0.AddSeconds(1), [Rule("x.test", Path("/img/.*\\.png", "ImplementationSpecific", "b"), Path("/exact", "Exact", "b"))]),
            // another host is not touched: its path is a plain prefix
            Ingress("plain", T0, [Rule("y.test", Path("/a.c", "ImplementationSpecific", "b"))]),
        ], Services);
        Assert.Equal("default/a:http", routes.Match("x.test", "/api/v2/users")?.ClusterId);
        Assert.Equal("default/a:http", routes.Match("x.test", "/API/V10/Users/7")?.ClusterId);
        Assert.Null(routes.Match("x.test", "/api/vx/users"));
        Assert.Null(routes.Match("x.test", "/prefix/api/v2/users")); // anchored at the start
        Assert.Equal("default/b:http", routes.Match("x.test", "/img/a/b.png")?.ClusterId);
        Assert.Equal("default/b:http", routes.Match("x.test", "/exact")?.ClusterId);
        Assert.Null(routes.Match("x.test", "/exact/more"));
        Assert.Equal("default/b:http", routes.Match("y.test", "/a.c/x")?.ClusterId);
        Assert.Null(routes.Match("y.test", "/abc"));
    }

    [Fact]
    public void A_regex_path_that_does_not_compile_is_reported_and_not_served()
    {
        var regex = new Dictionary<string, string> { [IngressAnnotations.UseRegex] = "true" };
        var routes = IngressRoutes.Build(
            [Ingress("re", T0, [Rule("x.test", Path("/a(b", "ImplementationSpecific", "a"), Path("/ok", "ImplementationSpecific", "a"))], annotations: regex)],
            Services);
        Assert.Null(routes.Match("x.test", "/a(b"));
        Assert.NotNull(routes.Match("x.test", "/ok"));
        Assert.Single(routes.Skipped, s => s.Contains("is not a valid regular expression", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/something(/|$)(.*)", "/$2", "/something/new/x", "/new/x")]
    [InlineData("/something(/|$)(.*)", "/$2", "/something", "/")]
    [InlineData("/something(/|$)(.*)", "/$2", "/something/", "/")]
    [InlineData("/api(/|$)(.*)", "/v1/$2$3", "/api/users", "/v1/users")] // a capture that does not exist is empty
    [InlineData("/old/.*", "/new", "/old/page", "/new")] // nginx's rewrite: the whole path becomes the target
    public void A_rewrite_target_with_captures_makes_the_path_a_regex_and_replaces_the_whole_path(string path, string target, string request, string rewritten)
    {
        var annotations = new Dictionary<string, string> { [IngressAnnotations.RewriteTarget] = target };
        if (!target.Contains('$')) annotations[IngressAnnotations.UseRegex] = "true";
        var routes = IngressRoutes.Build([Ingress("re", T0, [Rule("x.test", Path(path, "ImplementationSpecific", "a"))], annotations: annotations)], Services);
        var route = routes.Match("x.test", request)!;
        Assert.NotNull(route.Pattern);
        Assert.Equal(rewritten, IngressRoutes.Rewrite(route, request));
    }

    [Theory]
    [InlineData("HTTPS", "@https", true, false)]
    [InlineData("grpcs", "@grpcs", true, true)]
    [InlineData("GRPC", "@grpc", false, true)]
    public void Backend_protocols_make_their_own_cluster(string value, string suffix, bool tls, bool grpc)
    {
        var options = IngressRoutes.Annotations(new Dictionary<string, string> { [IngressAnnotations.BackendProtocol] = value }, "default/i", []);
        Assert.Equal(tls, options.BackendTls);
        Assert.Equal(grpc, options.Grpc);
        Assert.Equal("default/a:http" + suffix, options.ClusterIdFor("default/a:http"));
    }

    [Theory]
    [InlineData("/api", "Prefix", "/", "/api/users", "/users")]
    [InlineData("/api", "Prefix", "/", "/api", "/")]
    [InlineData("/api", "Prefix", "/v2", "/api/users/", "/v2/users/")]
    [InlineData("/api", "Exact", "/x", "/api", "/x")]
    public void Rewrite_target_replaces_the_matched_prefix(string path, string type, string target, string request, string expected)
    {
        var route = new IngressRoute("i", "", path, type, "c", null, new IngressOptions(RewriteTarget: target), false);
        Assert.Equal(expected, IngressRoutes.Rewrite(route, request));
    }

    [Fact]
    public void A_LoadBalancer_address_is_a_shared_listener_and_Local_policy_keeps_only_this_nodes_endpoints()
    {
        var service = new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "lb", NamespaceProperty = "default" },
            Spec = new V1ServiceSpec
            {
                Type = "LoadBalancer", ExternalTrafficPolicy = "Local",
                Ports = [new V1ServicePort { Port = 80, NodePort = 30080, Protocol = "TCP" }],
            },
            Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = [new V1LoadBalancerIngress { Ip = "127.0.100.7" }] } },
        };
        var endpoints = new V1Endpoints
        {
            Metadata = new V1ObjectMeta { Name = "lb", NamespaceProperty = "default" },
            Subsets = [new V1EndpointSubset
            {
                Addresses = [new V1EndpointAddress { Ip = "10.0.0.1", NodeName = "n1" }, new V1EndpointAddress { Ip = "10.0.0.2", NodeName = "n2" }],
                Ports = [new Corev1EndpointPort { Port = 8080 }],
            }],
        };
        var plan = YarpConfigFromEndpoints.Build(new ServicesChanged(1, [service], TestSlices.Of(endpoints)), IPAddress.Loopback, nodeName: "n1");
        var lb = Assert.Single(plan.Listeners, l => l.EndPoint.Equals(IPEndPoint.Parse("127.0.100.7:80")));
        Assert.True(lb.Shared);
        Assert.Equal("default/lb:80/local", lb.ClusterId);
        Assert.Equal(["10.0.0.1:8080"], plan.Clusters.Single(c => c.ClusterId == "default/lb:80/local").Destinations!.Keys);
        Assert.Equal(2, plan.Clusters.Single(c => c.ClusterId == "default/lb:80").Destinations!.Count);
    }
}
