using System.Text;
using Orchestrator.Master.Tests.Api.Protobuf;
using AuthKind = Orchestrator.Master.Tests.Api.Auth;

namespace Orchestrator.Master.Tests.Api.Hostile;

/// <summary>One hostile request: its class (a row of the suite's table), what it sends, and how it authenticates.</summary>
public sealed record HostileRequest(string Class, string Name, string Method, string Path, byte[]? Body = null,
    string? ContentType = null, AuthKind Auth = AuthKind.Token, string? Authorization = null);

/// <summary>
/// The hostile-input catalogue, over every class of issue 12 and the earlier audits (auth, sizes, selectors, patches,
/// resourceVersions, watches). Every request must be refused with a 4xx or an explicit 503. The targets are the
/// baseline objects <see cref="HostileInputSuiteTests"/> creates first: namespaces "baseline" and "sibling",
/// ConfigMaps cm1, cm2, c (and x1, x2 in sibling), Secrets s1, s2, Service svc; and the Deployment "web" and the pod
/// "p" (bound to node "ghost", whose kubelet port is closed), which are not part of the byte-compared baseline.
/// </summary>
public static class HostileCatalogue
{
    public const string Ns = "/api/v1/namespaces/baseline";
    public const string Cms = Ns + "/configmaps";
    public const string Deployments = "/apis/apps/v1/namespaces/baseline/deployments";
    private const string Merge = "application/merge-patch+json", Strategic = "application/strategic-merge-patch+json",
        JsonPatch = "application/json-patch+json", ApplyType = "application/apply-patch+yaml", Yaml = "application/yaml",
        Protobuf = "application/vnd.kubernetes.protobuf";

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    private static string ConfigMap(string name, string extra = "") =>
        $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}"}{{{extra}}}}""";

    public static IReadOnlyList<HostileRequest> All() =>
    [
        .. Authentication(), .. Paths(), .. Depth(), .. Aliases(), .. Sizes(), .. Duplicates(), .. Answers(), .. Selectors(),
        .. Patches(), .. Watches(), .. ProtobufBodies(), .. Kubelet(), .. HostAccess(), .. Values(),
    ];

    /// <summary>Quantities and bytes the client model reads but cannot hold or print: a negative quantity in exponent form
    /// (its text never returned: a thread lost per request), one beyond ±7.9e28 (a 500 when serialized), text that is no
    /// base64 to Go, an int-or-string beyond int32 or of another JSON type.</summary>
    private static IEnumerable<HostileRequest> Values()
    {
        const string c = "quantities and bytes";
        static string Pod(string name, string resources) =>
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" + name +
            "\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":" + resources + "}]}}";
        foreach (var (label, value) in new[] { ("negative, exponent form", "-1e3"), ("beyond the model", "1e30"), ("31 digits", "9999999999999999999999999999999"), ("no quantity", "1x1"),
                     ("huge exponent", "1e999999999"), ("huge negative exponent", "-1E-999999999"), ("100 digits", new string('1', 100)) })
        {
            yield return new(c, $"pod request {label}", "POST", Ns + "/pods", B(Pod("q", """{"requests":{"cpu":"VALUE"}}""".Replace("VALUE", value))), "application/json");
            yield return new(c, $"pod limit {label}", "POST", Ns + "/pods", B(Pod("q", """{"limits":{"memory":"VALUE"}}""".Replace("VALUE", value))), "application/json");
            yield return new(c, $"limit range min {label}", "POST", Ns + "/limitranges",
                B("""{"apiVersion":"v1","kind":"LimitRange","metadata":{"name":"q"},"spec":{"limits":[{"type":"Container","min":{"cpu":"VALUE"},"max":{"cpu":"-2e3"}}]}}""".Replace("VALUE", value)), "application/json");
            yield return new(c, $"quota hard {label}", "POST", Ns + "/resourcequotas",
                B("""{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q"},"spec":{"hard":{"cpu":"VALUE"}}}""".Replace("VALUE", value)), "application/json");
        }
        yield return new(c, "huge pages of a huge exponent", "POST", Ns + "/pods",
            B(Pod("q", """{"requests":{"hugepages-1e999999999":"2"},"limits":{"hugepages-1e999999999":"2"}}""")), "application/json");
        // int-or-string: Go's IntOrString holds an int32; the client model took any int64 (a targetPort of 3000000000
        // was stored), and a bool or an object got a message naming no field
        foreach (var value in new[] { "3000000000", "-2147483649", "1.5", "true", "{}", "[80]" })
        {
            yield return new(c, $"service targetPort {value}", "POST", Ns + "/services",
                B("""{"apiVersion":"v1","kind":"Service","metadata":{"name":"q"},"spec":{"ports":[{"port":80,"targetPort":VALUE}]}}""".Replace("VALUE", value)), "application/json");
            yield return new(c, $"deployment maxSurge {value}", "POST", Deployments,
                B("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"q"},"spec":{"selector":{"matchLabels":{"a":"b"}},"strategy":{"rollingUpdate":{"maxSurge":VALUE}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}""".Replace("VALUE", value)), "application/json");
        }
        foreach (var data in new[] { "YW Jj", "!!!", "YQ" })
            yield return new(c, $"secret data \"{data}\"", "POST", Ns + "/secrets",
                B("""{"apiVersion":"v1","kind":"Secret","metadata":{"name":"q"},"data":{"a":"VALUE"}}""".Replace("VALUE", data)), "application/json");
    }

    private static IEnumerable<HostileRequest> Authentication()
    {
        const string c = "auth";
        var targets = new (string Method, string Path)[]
        {
            ("GET", Cms), ("GET", Cms + "/cm1"), ("DELETE", Cms + "/cm1"), ("GET", "/api/v1/secrets"), ("GET", "/metrics"),
            ("GET", "/openapi/v2"), ("GET", "/apis"), ("GET", Cms + "?watch=1"),
        };
        foreach (var (method, path) in targets)
        {
            yield return new(c, $"{method} {path} without a token", method, path, Auth: AuthKind.None);
            yield return new(c, $"{method} {path} with a wrong token", method, path, Auth: AuthKind.WrongToken);
        }
        yield return new(c, "basic auth", "GET", Cms, Auth: AuthKind.Basic);
        yield return new(c, "token in the query", "GET", Cms + "?access_token=TOKEN", Auth: AuthKind.None);
        yield return new(c, "Bearer and nothing", "GET", Cms, Authorization: "Bearer");
        yield return new(c, "token with a suffix", "GET", Cms, Authorization: "Bearer TOKENx");
        yield return new(c, "token cut short", "GET", Cms, Authorization: "Bearer TOKEN[..10]");
        yield return new(c, "16 KiB bearer", "GET", Cms, Authorization: "Bearer " + new string('a', 16 * 1024));
        yield return new(c, "create without a token", "POST", Cms, B(ConfigMap("noauth")), "application/json", AuthKind.None);
        yield return new(c, "patch without a token", "PATCH", Cms + "/cm1", B("{\"data\":{\"x\":\"y\"}}"), Merge, AuthKind.None);
        yield return new(c, "health path escape without a token", "GET", "/healthz/../api/v1/secrets", Auth: AuthKind.None);
        yield return new(c, "health path escape, encoded, without a token", "GET", "/livez/%2e%2e/api/v1/secrets", Auth: AuthKind.None);
    }

    private static IEnumerable<HostileRequest> Paths()
    {
        const string c = "paths and names";
        string[] dots = ["%2e%2e", "%2E%2E", "%2e%2E", "..", ".", "%2e", "%2E"];
        foreach (var dot in dots)
        {
            yield return new(c, $"DELETE configmaps/{dot}", "DELETE", $"{Cms}/{dot}");
            yield return new(c, $"GET namespaces/{dot}/configmaps", "GET", $"/api/v1/namespaces/{dot}/configmaps");
            yield return new(c, $"PUT configmaps/{dot}", "PUT", $"{Cms}/{dot}", B(ConfigMap("cm1")), "application/json");
        }
        foreach (var path in new[]
                 {
                     $"{Cms}/%2e%2e/cm1", $"/api/v1/namespaces/%2e%2e/configmaps/cm1", $"/api/v1/namespaces/%2e%2e/secrets",
                     $"{Cms}/cm1/%2e%2e", $"{Cms}/cm1/%2e%2e/%2e%2e", $"{Ns}/%2e%2e/configmaps", $"/api/%2e%2e/api/v1/secrets",
                     $"/apis/apps/v1/namespaces/baseline/deployments/%2e%2e", $"/api/v1/namespaces/%2e%2e", $"/api/v1/namespaces/%2e",
                     $"{Cms}/cm1%2f..", $"{Cms}/a%2Fb", $"{Cms}/%252e%252e", $"{Cms}/cm%25", $"/api/v1/namespaces//configmaps",
                     $"{Ns}//configmaps/cm1", $"/api//v1/namespaces/baseline/configmaps/cm1", $"{Cms}/cm1/./status",
                     $"{Cms}/%00", $"{Cms}/%ff", $"/api/v1/namespaces/baseline%2fconfigmaps/cm1", $"/apis/%2e%2e/v1/secrets",
                 })
        {
            yield return new(c, $"DELETE {path}", "DELETE", path);
            yield return new(c, $"GET {path}", "GET", path);
        }
        yield return new(c, "POST to a dot namespace", "POST", "/api/v1/namespaces/%2e%2e/configmaps", B(ConfigMap("dots")), "application/json");
        yield return new(c, "create a configmap named ..", "POST", Cms, B(ConfigMap("..")), "application/json");
        yield return new(c, "create a namespace named ..", "POST", "/api/v1/namespaces", B("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"..\"}}"), "application/json");
        yield return new(c, "PATCH configmaps/%2e%2e", "PATCH", $"{Cms}/%2e%2e", B("{\"data\":{\"x\":\"y\"}}"), Merge);
        yield return new(c, "PATCH namespaces/%2e%2e", "PATCH", "/api/v1/namespaces/%2e%2e", B("{\"metadata\":{\"labels\":{\"x\":\"y\"}}}"), Merge);
    }

    private static string Nested(int depth, string leaf = "1") =>
        string.Concat(Enumerable.Repeat("{\"a\":", depth)) + leaf + new string('}', depth);

    private static string NestedYaml(int depth) => string.Concat(Enumerable.Repeat("{a: ", depth)) + "1" + new string('}', depth);

    private static string BlockYaml(int depth) =>
        string.Concat(Enumerable.Range(0, depth).Select(i => new string(' ', i) + "a:\n")) + new string(' ', depth) + "b: 1\n";

    private static IEnumerable<HostileRequest> Depth()
    {
        const string c = "body depth";
        foreach (var depth in new[] { 65, 100, 1_000, 5_000, 10_000 })
        {
            var json = Nested(depth);
            yield return new(c, $"create JSON {depth}", "POST", Cms, B(ConfigMap("deep", ",\"x\":" + json)), "application/json");
            yield return new(c, $"create YAML {depth}", "POST", Cms, B("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\nx: " + NestedYaml(depth)), Yaml);
            yield return new(c, $"update {depth}", "PUT", Cms + "/cm1", B(ConfigMap("cm1", ",\"data\":" + json)), "application/json");
            yield return new(c, $"merge patch {depth}", "PATCH", Cms + "/cm1", B("{\"data\":" + json + "}"), Merge);
            yield return new(c, $"strategic patch {depth}", "PATCH", Deployments + "/web", B("{\"spec\":" + json + "}"), Strategic);
            yield return new(c, $"JSON patch value {depth}", "PATCH", Cms + "/cm1",
                B("[{\"op\":\"add\",\"path\":\"/data/x\",\"value\":" + json + "}]"), JsonPatch);
            yield return new(c, $"apply YAML flow {depth}", "PATCH", Cms + "/cm1?fieldManager=h",
                B("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm1}\ndata: " + NestedYaml(depth)), ApplyType);
            yield return new(c, $"apply YAML block {depth}", "PATCH", Cms + "/cm1?fieldManager=h",
                B("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm1\ndata:\n" + BlockYaml(Math.Min(depth, 2_400)).Replace("\n", "\n  ").Insert(0, "  ")), ApplyType);
            yield return new(c, $"apply JSON {depth}", "PATCH", Cms + "/cm1?fieldManager=h", B(ConfigMap("cm1", ",\"data\":" + json)), ApplyType);
            yield return new(c, $"DeleteOptions {depth}", "DELETE", Cms + "/cm1", B("{\"kind\":\"DeleteOptions\",\"x\":" + json + "}"), "application/json");
            yield return new(c, $"Scale {depth}", "PUT", Deployments + "/web/scale",
                B("{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"Scale\",\"spec\":" + json + "}"), "application/json");
        }
        yield return new(c, "apply that nests the object past the limit", "PATCH", Cms + "/cm1?fieldManager=h",
            B("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm1\n  annotations: " + NestedYaml(60)), ApplyType);
        yield return new(c, "JSON patch that nests the object past the limit", "PATCH", Deployments + "/web",
            B("[{\"op\":\"add\",\"path\":\"/spec/template/metadata/x\",\"value\":" + Nested(62) + "}]"), JsonPatch);
        yield return new(c, "binding 10,000 deep", "POST", Ns + "/pods/p/binding",
            B("{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"target\":" + Nested(10_000) + "}"), "application/json");
        yield return new(c, "eviction 10,000 deep", "POST", Ns + "/pods/p/eviction",
            B("{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"deleteOptions\":" + Nested(10_000) + "}"), "application/json");
    }

    private static string Laughs(int levels, int fanout, string prefix, bool maps = false)
    {
        var yaml = new StringBuilder(prefix);
        yaml.Append(maps
            ? "a0: &a0 {" + string.Join(",", Enumerable.Range(0, fanout).Select(i => $"k{i}: lol")) + "}\n"
            : "a0: &a0 [" + string.Join(",", Enumerable.Repeat("lol", fanout)) + "]\n");
        for (var i = 1; i < levels; i++)
            yaml.Append(maps
                ? $"a{i}: &a{i} {{" + string.Join(",", Enumerable.Range(0, fanout).Select(j => $"k{j}: *a{i - 1}")) + "}\n"
                : $"a{i}: &a{i} [" + string.Join(",", Enumerable.Repeat($"*a{i - 1}", fanout)) + "]\n");
        return yaml.ToString();
    }

    private static IEnumerable<HostileRequest> Aliases()
    {
        const string c = "YAML aliases";
        const string create = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\n";
        const string apply = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm1}\n";
        foreach (var (levels, fanout) in new[] { (9, 9), (6, 10), (5, 20), (12, 4), (30, 2) })
        {
            yield return new(c, $"create, {levels}x{fanout} list aliases", "POST", Cms, B(Laughs(levels, fanout, create)), Yaml);
            yield return new(c, $"apply, {levels}x{fanout} list aliases", "PATCH", Cms + "/cm1?fieldManager=h", B(Laughs(levels, fanout, apply)), ApplyType);
            yield return new(c, $"apply, {levels}x{fanout} map aliases", "PATCH", Cms + "/cm1?fieldManager=h", B(Laughs(levels, fanout, apply, maps: true)), ApplyType);
        }
        yield return new(c, "merge-key bomb", "PATCH", Cms + "/cm1?fieldManager=h",
            B(Laughs(8, 9, apply, maps: true) + "data:\n  <<: [" + string.Join(",", Enumerable.Repeat("*a7", 9)) + "]\n"), ApplyType);
        yield return new(c, "a million aliases of one scalar", "PATCH", Cms + "/cm1?fieldManager=h",
            B(apply + "x: &x lol\ndata: [" + string.Join(",", Enumerable.Repeat("*x", 1_000_000)) + "]\n"), ApplyType);
        yield return new(c, "an anchor that holds itself", "PATCH", Cms + "/cm1?fieldManager=h", B(apply + "data: &d {a: *d}\n"), ApplyType);
        yield return new(c, "an unknown anchor", "POST", Cms, B(create + "data: *nope\n"), Yaml);
        yield return new(c, "a sequence as a key", "POST", Cms, B(create + "? [a, b]\n: c\n"), Yaml);
    }

    private static IEnumerable<HostileRequest> Sizes()
    {
        const string c = "sizes and numbers";
        var big = new string('A', 3 * 1024 * 1024);
        yield return new(c, "3 MiB + 1 body", "POST", Cms, B(ConfigMap("big", ",\"binaryData\":{\"b\":\"" + big + "\"}")), "application/json");
        yield return new(c, "3 MiB + 1 YAML body", "POST", Cms, B("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\nbinaryData: {b: " + big + "}\n"), Yaml);
        yield return new(c, "3 MiB + 1 patch", "PATCH", Cms + "/cm1", B("{\"binaryData\":{\"b\":\"" + big + "\"}}"), Merge);
        yield return new(c, "3 MiB + 1 apply", "PATCH", Cms + "/cm1?fieldManager=h", B(ConfigMap("cm1", ",\"binaryData\":{\"b\":\"" + big + "\"}")), ApplyType);
        yield return new(c, "3 MiB + 1 protobuf", "POST", Cms, [.. "k8s\0"u8.ToArray(), .. new byte[3 * 1024 * 1024]], Protobuf);
        yield return new(c, "3 MiB + 1 DeleteOptions", "DELETE", Cms + "/cm1", B("{\"x\":\"" + big + "\"}"), "application/json");
        yield return new(c, "name of 1 MiB", "POST", Cms, B(ConfigMap(new string('a', 1024 * 1024))), "application/json");
        yield return new(c, "label key of 100,000 characters", "POST", Cms,
            B(ConfigMap("lk", ",\"metadata\":{\"name\":\"lk\",\"labels\":{\"" + new string('k', 100_000) + "\":\"v\"}}")), "application/json");
        yield return new(c, "label value of 1 MiB", "PATCH", Cms + "/cm1", B("{\"metadata\":{\"labels\":{\"k\":\"" + new string('v', 1024 * 1024) + "\"}}}"), Merge);
        yield return new(c, "50,000 invalid labels", "PATCH", Cms + "/cm1",
            B("{\"metadata\":{\"labels\":{" + string.Join(",", Enumerable.Range(0, 50_000).Select(i => $"\"-{i}\":\"v\"")) + "}}}"), Merge);
        foreach (var replicas in new[] { "1e400", new string('9', 100_000), "-" + new string('9', 30), "1.5", "\"3\"", "true", "[]", "{}", "-1" })
            yield return new(c, $"replicas {replicas[..Math.Min(replicas.Length, 12)]}", "PATCH", Deployments + "/web",
                B("{\"spec\":{\"replicas\":" + replicas + "}}"), Merge);
        yield return new(c, "200,000 unknown fields under Strict", "POST", Cms + "?fieldValidation=Strict",
            B(ConfigMap("wide", "," + string.Join(",", Enumerable.Range(0, 200_000).Select(i => $"\"f{i}\":1")))), "application/json");
        yield return new(c, "a million-element unknown array under Strict", "POST", Cms + "?fieldValidation=Strict",
            B(ConfigMap("long", ",\"x\":[" + string.Join(",", Enumerable.Repeat("0", 1_000_000)) + "]")), "application/json");
        yield return new(c, "100,000 containers without image", "PATCH", Deployments + "/web",
            B("{\"spec\":{\"template\":{\"spec\":{\"containers\":[" + string.Join(",", Enumerable.Range(0, 100_000).Select(i => $"{{\"name\":\"c{i}\"}}")) + "]}}}}"),
            Strategic);
        yield return new(c, "JSON patch of 10,001 operations", "PATCH", Cms + "/cm1",
            B("[" + string.Join(",", Enumerable.Repeat("{\"op\":\"test\",\"path\":\"/kind\",\"value\":\"ConfigMap\"}", 10_001)) + "]"), JsonPatch);
        yield return new(c, "JSON patch copying past 3 MiB", "PATCH", Cms + "/cm1",
            B("[{\"op\":\"add\",\"path\":\"/data\",\"value\":{\"a\":\"" + new string('x', 1024 * 1024) + "\"}}," +
              string.Join(",", Enumerable.Range(0, 4).Select(i => $"{{\"op\":\"copy\",\"from\":\"/data/a\",\"path\":\"/data/c{i}\"}}")) + "]"), JsonPatch);
        yield return new(c, "JSON patch doubling the object 10,000 times", "PATCH", Cms + "/cm1",
            B("[" + string.Join(",", Enumerable.Range(0, 10_000).Select(i => $"{{\"op\":\"copy\",\"from\":\"/metadata\",\"path\":\"/metadata/m{i}\"}}")) + "]"), JsonPatch);
    }

    private static IEnumerable<HostileRequest> Duplicates()
    {
        const string c = "duplicate and odd fields";
        const string strict = "?fieldValidation=Strict";
        yield return new(c, "duplicate data key, create", "POST", Cms + strict,
            B("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"dup\"},\"data\":{\"a\":\"1\",\"a\":\"2\"}}"), "application/json");
        yield return new(c, "duplicate metadata, create", "POST", Cms + strict,
            B("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"dup\"},\"metadata\":{\"name\":\"dup2\"}}"), "application/json");
        yield return new(c, "duplicate name, update", "PUT", Cms + "/cm1" + strict,
            B("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm1\",\"name\":\"cm1\"}}"), "application/json");
        yield return new(c, "duplicate key, merge patch", "PATCH", Cms + "/cm1" + strict, B("{\"data\":{\"a\":\"1\",\"a\":\"2\"}}"), Merge);
        yield return new(c, "duplicate key, strategic patch", "PATCH", Cms + "/cm1" + strict, B("{\"data\":{\"a\":\"1\",\"a\":\"2\"}}"), Strategic);
        yield return new(c, "duplicate op, JSON patch", "PATCH", Cms + "/cm1" + strict,
            B("[{\"op\":\"add\",\"op\":\"remove\",\"path\":\"/data/x\",\"value\":\"1\"}]"), JsonPatch);
        yield return new(c, "duplicate key, apply JSON", "PATCH", Cms + "/cm1?fieldManager=h&fieldValidation=Strict",
            B("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm1\"},\"data\":{\"a\":\"1\",\"a\":\"2\"}}"), ApplyType);
        yield return new(c, "duplicate key, apply YAML", "PATCH", Cms + "/cm1?fieldManager=h&fieldValidation=Strict",
            B("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm1}\ndata: {a: '1', a: '2'}\n"), ApplyType);
        yield return new(c, "duplicate key, YAML create", "POST", Cms + strict, B("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup}\nkind: ConfigMap\n"), Yaml);
        foreach (var field in new[] { "a\\u0001b", "\\u0000", "a\\nb", "\\u202e", "é", "\\\"", "\\\\", "" })
            yield return new(c, $"field {field} under Strict", "POST", Cms + strict,
                B("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"odd\"},\"" + field + "\":1}"), "application/json");
        foreach (var directive in new[] { "strict", "Loose", "Strict,Warn", "%00" })
            yield return new(c, $"fieldValidation={directive}", "POST", Cms + "?fieldValidation=" + directive, B(ConfigMap("fv")), "application/json");
    }

    private static IEnumerable<HostileRequest> Answers()
    {
        const string c = "wrong-but-harmless answers";
        yield return new(c, "apply without kind and apiVersion", "PATCH", Cms + "/nokind?fieldManager=h", B("{\"metadata\":{\"name\":\"nokind\"}}"), ApplyType);
        yield return new(c, "apply without kind", "PATCH", Cms + "/nokind?fieldManager=h", B("{\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"nokind\"}}"), ApplyType);
        yield return new(c, "apply of another kind", "PATCH", Cms + "/nokind?fieldManager=h", B("apiVersion: v1\nkind: Secret\nmetadata: {name: nokind}\n"), ApplyType);
        yield return new(c, "apply without a field manager", "PATCH", Cms + "/cm1", B(ConfigMap("cm1")), ApplyType);
        yield return new(c, "apply to a subresource", "PATCH", Cms + "/cm1/status?fieldManager=h", B(ConfigMap("cm1")), ApplyType);
        yield return new(c, "$patch bogus on a map", "PATCH", Cms + "/cm1", B("{\"data\":{\"$patch\":\"bogus\"}}"), Strategic);
        yield return new(c, "$patch bogus at the top", "PATCH", Cms + "/cm1", B("{\"$patch\":\"bogus\"}"), Strategic);
        yield return new(c, "$patch bogus in a keyed list", "PATCH", Deployments + "/web",
            B("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"$patch\":\"bogus\"}]}}}}"), Strategic);
        yield return new(c, "$patch merge in a keyed list", "PATCH", Deployments + "/web",
            B("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"$patch\":\"merge\"}]}}}}"), Strategic);
        yield return new(c, "keyed list element without its key", "PATCH", Deployments + "/web",
            B("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}}}"), Strategic);
        yield return new(c, "$retainKeys that is not a list", "PATCH", Cms + "/cm1", B("{\"data\":{\"$retainKeys\":\"a\"}}"), Strategic);
        yield return new(c, "$deleteFromPrimitiveList that is not a list", "PATCH", Cms + "/cm1", B("{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":1}}"), Strategic);
        yield return new(c, "apply with $patch bogus", "PATCH", Cms + "/cm1?fieldManager=h",
            B("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm1\"},\"data\":{\"$patch\":\"bogus\"}}"), ApplyType);
        foreach (var rv in new[] { "abc", "-1", "1.5", "%201", "0x10", "99999999999999999999999" })
        {
            yield return new(c, $"get with resourceVersion={rv}", "GET", Cms + "/cm1?resourceVersion=" + rv);
            yield return new(c, $"list with resourceVersion={rv}", "GET", Cms + "?resourceVersion=" + rv);
        }
        yield return new(c, "resourceVersionMatch without resourceVersion", "GET", Cms + "?resourceVersionMatch=NotOlderThan");
        yield return new(c, "resourceVersionMatch=Newest", "GET", Cms + "?resourceVersion=1&resourceVersionMatch=Newest");
        yield return new(c, "resourceVersionMatch=Exact at 0", "GET", Cms + "?resourceVersion=0&resourceVersionMatch=Exact");
        yield return new(c, "resourceVersionMatch=Exact at a version gone", "GET", Cms + "?resourceVersion=1&resourceVersionMatch=Exact");
        yield return new(c, "resourceVersionMatch with continue", "GET", Cms + "?resourceVersion=1&resourceVersionMatch=NotOlderThan&continue=eA");
        foreach (var grace in new[] { "abc", "1e3", "9999999999999999999999" })
            yield return new(c, $"gracePeriodSeconds={grace}", "DELETE", Cms + "/cm1?gracePeriodSeconds=" + grace);
        yield return new(c, "dryRun=Some on create", "POST", Cms + "?dryRun=Some", B(ConfigMap("dry")), "application/json");
        yield return new(c, "dryRun=Some on patch", "PATCH", Cms + "/cm1?dryRun=Some", B("{}"), Merge);
        yield return new(c, "dryRun=Some on delete", "DELETE", Cms + "/cm1?dryRun=Some");
        yield return new(c, "dryRun in the DeleteOptions body", "DELETE", Cms + "/cm1", B("{\"dryRun\":[\"Some\"]}"), "application/json");
        yield return new(c, "propagationPolicy=Sideways", "DELETE", Cms + "/cm1?propagationPolicy=Sideways");
        yield return new(c, "propagationPolicy in the body", "DELETE", Cms + "/cm1", B("{\"propagationPolicy\":\"Sideways\"}"), "application/json");
        yield return new(c, "limit=abc", "GET", Cms + "?limit=abc");
        yield return new(c, "limit=-1", "GET", Cms + "?limit=-1");
        yield return new(c, "continue that is not a token", "GET", Cms + "?limit=1&continue=%%%");
        yield return new(c, "continue of garbage base64", "GET", Cms + "?limit=1&continue=AAAA");
        yield return new(c, "a body kind that is not the resource's", "POST", Cms, B("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"k\"}}"), "application/json");
        yield return new(c, "a body apiVersion that is not the resource's", "POST", Cms, B("{\"apiVersion\":\"v2\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"k\"}}"), "application/json");
        yield return new(c, "a null list element", "POST", Ns + "/pods", B("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"n\"},\"spec\":{\"containers\":[null]}}"), "application/json");
        yield return new(c, "a null port", "POST", Ns + "/services", B("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"n\"},\"spec\":{\"ports\":[null]}}"), "application/json");
    }

    private static IEnumerable<HostileRequest> Selectors()
    {
        const string c = "selectors";
        foreach (var selector in new[]
                 {
                     "a%20in%20(b", "!!a", "a%3Db%3Dc", "a,,b", "%3Dx", "a%20notin%20b", "x%3Ea", "%28", "a!", "a%3D%3D%3D",
                     "a%20in%20(" + string.Concat(Enumerable.Repeat("b,", 1500)), new string('a', 3000) + "%3D%3D",
                 })
        {
            yield return new(c, $"labelSelector {selector[..Math.Min(20, selector.Length)]}", "GET", Cms + "?labelSelector=" + selector);
        }
        foreach (var selector in new[] { "metadata.name", "spec.x%3D1", "metadata.name%3Da%2Cb", "%3D", "metadata.name%21", "status.phase%3DRunning" })
            yield return new(c, $"fieldSelector {selector}", "GET", Cms + "?fieldSelector=" + selector);
        yield return new(c, "deletecollection with a bad selector", "DELETE", Cms + "?labelSelector=a%20in%20(b");
        yield return new(c, "deletecollection with a bad field selector", "DELETE", Cms + "?fieldSelector=spec.x%3D1");
    }

    private static IEnumerable<HostileRequest> Patches()
    {
        const string c = "patches";
        yield return new(c, "patch as text/plain", "PATCH", Cms + "/cm1", B("{}"), "text/plain");
        yield return new(c, "patch as application/json", "PATCH", Cms + "/cm1", B("{}"), "application/json");
        yield return new(c, "patch without a content type", "PATCH", Cms + "/cm1", B("{}"));
        yield return new(c, "empty merge patch body", "PATCH", Cms + "/cm1", [], Merge);
        yield return new(c, "merge patch that is a string", "PATCH", Cms + "/cm1", B("\"x\""), Merge);
        yield return new(c, "strategic patch that is a list", "PATCH", Cms + "/cm1", B("[]"), Strategic);
        yield return new(c, "JSON patch that is an object", "PATCH", Cms + "/cm1", B("{\"op\":\"add\"}"), JsonPatch);
        foreach (var op in new[]
                 {
                     "{\"op\":\"bogus\",\"path\":\"/data\"}", "{\"op\":\"add\",\"path\":\"data/x\",\"value\":1}", "{\"op\":\"add\",\"path\":\"/kind/x\",\"value\":1}",
                     "{\"op\":\"remove\",\"path\":\"/data/missing\"}", "{\"op\":\"replace\",\"path\":\"/metadata/finalizers/01\",\"value\":\"x\"}",
                     "{\"op\":\"add\",\"path\":\"/metadata/finalizers/-1\",\"value\":\"x\"}", "{\"op\":\"add\",\"path\":\"/metadata/finalizers/99999999999\",\"value\":\"x\"}",
                     "{\"op\":\"test\",\"path\":\"/kind\",\"value\":\"Secret\"}", "{\"op\":\"move\",\"from\":\"/nope\",\"path\":\"/data/x\"}",
                     "{\"op\":\"copy\",\"path\":\"/data/x\"}", "{\"op\":\"add\",\"path\":\"\",\"value\":null}", "{\"op\":\"remove\",\"path\":\"\"}",
                     "{\"op\":1,\"path\":\"/data\"}", "{\"path\":\"/data\"}", "null", "{\"op\":\"add\",\"path\":\"/data\"}",
                     "{\"op\":\"replace\",\"path\":\"/metadata/name\",\"value\":\"other\"}", "{\"op\":\"replace\",\"path\":\"/metadata/namespace\",\"value\":\"sibling\"}",
                 })
            yield return new(c, $"JSON patch {op[..Math.Min(op.Length, 40)]}", "PATCH", Cms + "/cm1", B("[" + op + "]"), JsonPatch);
        yield return new(c, "merge patch renaming the object", "PATCH", Cms + "/cm1", B("{\"metadata\":{\"name\":\"cm2\"}}"), Merge);
        yield return new(c, "merge patch moving the object to another namespace", "PATCH", Cms + "/cm1", B("{\"metadata\":{\"namespace\":\"sibling\"}}"), Merge);
        yield return new(c, "merge patch making replicas negative", "PATCH", Deployments + "/web", B("{\"spec\":{\"replicas\":-3}}"), Merge);
        yield return new(c, "strategic patch deleting every container", "PATCH", Deployments + "/web",
            B("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"$patch\":\"replace\"}]}}}}"), Strategic);
        yield return new(c, "patch of a missing object", "PATCH", Cms + "/missing", B("{}"), Merge);
        yield return new(c, "patch pinned to a stale resourceVersion", "PATCH", Cms + "/cm1", B("{\"metadata\":{\"resourceVersion\":\"1\"},\"data\":{\"x\":\"y\"}}"), Merge);
        yield return new(c, "scale patch to a negative count", "PATCH", Deployments + "/web/scale", B("{\"spec\":{\"replicas\":-1}}"), Merge);
        yield return new(c, "scale patch of a configmap", "PATCH", Cms + "/cm1/scale", B("{\"spec\":{\"replicas\":1}}"), Merge);
    }

    private static IEnumerable<HostileRequest> Watches()
    {
        const string c = "resourceVersions and watches";
        foreach (var query in new[]
                 {
                     "resourceVersion=abc", "resourceVersion=-1", "resourceVersion=1.5", "labelSelector=a%20in%20(b", "fieldSelector=spec.x%3D1",
                     "timeoutSeconds=abc", "timeoutSeconds=1e9", "resourceVersionMatch=NotOlderThan&resourceVersion=1", "limit=abc",
                 })
            yield return new(c, $"watch with {query}", "GET", Cms + "?watch=1&" + query);
        yield return new(c, "watch of an unknown resource", "GET", Ns + "/widgets?watch=1");
        yield return new(c, "watch in a dot namespace", "GET", "/api/v1/namespaces/%2e%2e/configmaps?watch=1");
        yield return new(c, "watch of a cluster resource in a namespace", "GET", Ns + "/nodes?watch=1");
        yield return new(c, "watch by POST", "POST", Cms + "?watch=1", B("{}"), "application/json");
        yield return new(c, "watch of a dot-named object", "GET", Cms + "?watch=1&fieldSelector=metadata.name%3D..&resourceVersion=x");
    }

    private static IEnumerable<HostileRequest> ProtobufBodies()
    {
        const string c = "protobuf bodies";
        var configMap = Fixtures.Read("configmap-c");
        var random = new Random(12);
        foreach (var cut in new[] { 0, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 28, configMap.Length / 2, configMap.Length - 2 }.Where(n => n < configMap.Length).Distinct())
            yield return new(c, $"configmap cut at {cut}", "POST", Cms, configMap[..cut], Protobuf);
        foreach (var size in new[] { 1, 64, 1024, 65536 })
        {
            var bytes = new byte[size + 4];
            random.NextBytes(bytes);
            "k8s\0"u8.CopyTo(bytes);
            yield return new(c, $"{size} random bytes after the magic", "POST", Cms, bytes, Protobuf);
        }
        yield return new(c, "groups nested 10,000 deep", "POST", Cms,
            [.. "k8s\0"u8.ToArray(), .. Enumerable.Repeat(new byte[] { 0x9B, 0x06 }, 10_000).SelectMany(b => b)], Protobuf);
        yield return new(c, "a field claiming 2 GiB", "POST", Cms, [.. "k8s\0"u8.ToArray(), 0x12, 0xff, 0xff, 0xff, 0xff, 0x07, 0x01], Protobuf);
        yield return new(c, "a deployment to the configmaps", "POST", Cms, Fixtures.Read("deployment-web"), Protobuf);
        yield return new(c, "a configmap that exists", "POST", Cms, configMap, Protobuf);
        yield return new(c, "protobuf update naming another object", "PUT", Cms + "/cm2", configMap, Protobuf);
        yield return new(c, "protobuf patch", "PATCH", Cms + "/c", configMap, Protobuf);
    }

    private static IEnumerable<HostileRequest> Kubelet()
    {
        const string c = "kubelet relays";
        yield return new(c, "logs from a node whose kubelet is gone", "GET", Ns + "/pods/p/log");
        yield return new(c, "logs following a node whose kubelet is gone", "GET", Ns + "/pods/p/log?follow=true");
        yield return new(c, "logs of a container the pod lacks", "GET", Ns + "/pods/p/log?container=nope");
        yield return new(c, "logs of a dot-named pod", "GET", Ns + "/pods/%2e%2e/log");
        yield return new(c, "exec without an upgrade", "GET", Ns + "/pods/p/exec?command=sh");
        yield return new(c, "exec by POST without an upgrade", "POST", Ns + "/pods/p/exec?command=sh");
        yield return new(c, "port forward to a pod not running", "GET", Ns + "/pods/p/portforward?ports=80");
        yield return new(c, "logs of a missing pod", "GET", Ns + "/pods/missing/log");
    }

    /// <summary>A pod (and a pod template) reaching into its node in ways Kubernetes refuses, or the nodes cannot honour:
    /// each must be refused (422) and never stored, so no node ever sees it.</summary>
    private static IEnumerable<HostileRequest> HostAccess()
    {
        const string c = "host access (subPath, hostPath, security contexts)";
        static string Pod(string name, string spec = "", string container = "", string mount = "", string volume = "\"emptyDir\":{}") =>
            $$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"{{{name}}}"},"spec":{"volumes":[{"name":"data",{{{volume}}}}]{{{spec}}},"containers":[{"name":"c","image":"i"{{{container}}}{{{(mount.Length > 0 ? ",\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/d\"" + mount + "}]" : "")}}}}]}}""";
        var pods = Ns + "/pods";
        var cases = new (string Name, string Body)[]
        {
            ("subPath ../../../etc", Pod("h1", mount: ",\"subPath\":\"../../../etc\"")),
            ("subPath a/../../b", Pod("h2", mount: ",\"subPath\":\"a/../../b\"")),
            ("subPath /etc", Pod("h3", mount: ",\"subPath\":\"/etc\"")),
            ("subPath ..", Pod("h4", mount: ",\"subPath\":\"..\"")),
            ("subPathExpr ../$(X)", Pod("h5", mount: ",\"subPathExpr\":\"../$(X)\"")),
            ("subPath and subPathExpr together", Pod("h6", mount: ",\"subPath\":\"a\",\"subPathExpr\":\"b\"")),
            ("hostPath /var/../etc", Pod("h7", volume: "\"hostPath\":{\"path\":\"/var/../etc\"}")),
            ("hostPath of an unknown type", Pod("h8", volume: "\"hostPath\":{\"path\":\"/\",\"type\":\"Anything\"}")),
            ("hostPath without a path", Pod("h9", volume: "\"hostPath\":{\"path\":\"\"}")),
            ("windowsOptions on Linux nodes", Pod("h12", spec: ",\"securityContext\":{\"windowsOptions\":{\"runAsUserName\":\"x\"}}")),
            ("unsafe sysctl kernel.msgmax", Pod("h14", spec: ",\"securityContext\":{\"sysctls\":[{\"name\":\"kernel.msgmax\",\"value\":\"1\"}]}")),
            ("net sysctl with hostNetwork", Pod("h15", spec: ",\"hostNetwork\":true,\"securityContext\":{\"sysctls\":[{\"name\":\"net.ipv4.tcp_syncookies\",\"value\":\"1\"}]}")),
            ("hostNetwork with a hostPort unlike its containerPort", Pod("h16", spec: ",\"hostNetwork\":true", container: ",\"ports\":[{\"containerPort\":8080,\"hostPort\":9090}]")),
            ("Bidirectional propagation unprivileged", Pod("h17", mount: ",\"mountPropagation\":\"Bidirectional\"")),
            ("recursiveReadOnly without readOnly", Pod("h18", mount: ",\"recursiveReadOnly\":\"Enabled\"")),
            ("privileged without privilege escalation", Pod("h19", container: ",\"securityContext\":{\"privileged\":true,\"allowPrivilegeEscalation\":false}")),
            ("seccomp Localhost without a profile", Pod("h20", spec: ",\"securityContext\":{\"seccompProfile\":{\"type\":\"Localhost\"}}")),
            ("hostPID with shareProcessNamespace", Pod("h21", spec: ",\"hostPID\":true,\"shareProcessNamespace\":true")),
            ("runAsUser -1", Pod("h22", container: ",\"securityContext\":{\"runAsUser\":-1}")),
            ("hostPort 70000", Pod("h23", container: ",\"ports\":[{\"containerPort\":80,\"hostPort\":70000}]")),
        };
        foreach (var (name, body) in cases)
            yield return new(c, "pod with " + name, "POST", pods, B(body), "application/json");
        yield return new(c, "pod with subPath ../../../etc, as YAML", "POST", pods,
            B("apiVersion: v1\nkind: Pod\nmetadata: {name: h24}\nspec:\n  volumes: [{name: data, emptyDir: {}}]\n  containers:\n  - {name: c, image: i, volumeMounts: [{name: data, mountPath: /d, subPath: ../../../etc}]}\n"), Yaml);
        yield return new(c, "deployment template with subPath ../../../etc", "POST", Deployments,
            B("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"h25"},"spec":{"selector":{"matchLabels":{"app":"h"}},"template":{"metadata":{"labels":{"app":"h"}},"spec":{"volumes":[{"name":"data","emptyDir":{}}],"containers":[{"name":"c","image":"i","volumeMounts":[{"name":"data","mountPath":"/d","subPath":"../../../etc"}]}]}}}}"""), "application/json");
        yield return new(c, "deployment patched to hostPath /var/../etc", "PATCH", Deployments + "/web",
            B("""{"spec":{"template":{"spec":{"volumes":[{"name":"h","hostPath":{"path":"/var/../etc"}}]}}}}"""), Strategic);
        yield return new(c, "deployment patched to a subPath that climbs out", "PATCH", Deployments + "/web",
            B("""{"spec":{"template":{"spec":{"volumes":[{"name":"data","emptyDir":{}}],"containers":[{"name":"web","volumeMounts":[{"name":"data","mountPath":"/d","subPath":"../.."}]}]}}}}"""), Strategic);
        yield return new(c, "pod p's volumes replaced by a hostPath /", "PATCH", Ns + "/pods/p",
            B("""{"spec":{"volumes":[{"name":"h","hostPath":{"path":"/"}}]}}"""), Strategic);
        yield return new(c, "pod p made privileged", "PATCH", Ns + "/pods/p",
            B("""{"spec":{"containers":[{"name":"c","securityContext":{"privileged":true}}]}}"""), Strategic);
    }
}
