using System.Text;
using Orchestrator.Master.Tests.Api.Protobuf;

namespace Orchestrator.Master.Tests.Api;

/// <summary>How a hostile request authenticates.</summary>
public enum Auth { Token, None, WrongToken, Basic }

/// <summary>One malformed or hostile request and the Status the API must answer with (code, reason, and the field
/// of the first cause when the answer is 422 Invalid).</summary>
public sealed record BadInput(string Method, string Path, string? Body, int Code, string Reason, string? Field = null,
    string ContentType = "application/json", Auth Auth = Auth.Token, byte[]? Bytes = null);

/// <summary>
/// The bad-input catalogue. Objects seeded by <see cref="BadInputFixture"/>: deployment "web", replicaset "rs",
/// NodePort service "svc" (port 80, nodePort 30100) and ClusterIP service "plain", all in "default".
/// </summary>
public static class BadInputCases
{
    public const string Deployments = "/apis/apps/v1/namespaces/default/deployments";
    public const string ReplicaSets = "/apis/apps/v1/namespaces/default/replicasets";
    public const string Services = "/api/v1/namespaces/default/services";
    public const string ConfigMaps = "/api/v1/namespaces/default/configmaps";

    public static string Deployment(string name = "d1", string replicas = "1", string selector = """{"matchLabels":{"app":"x"}}""",
        string templateLabels = """{"app":"x"}""", string containers = """[{"name":"c","image":"i"}]""", string metadataExtra = "",
        string specExtra = "", string podSpecExtra = "", string apiVersion = "apps/v1", string kind = "Deployment") =>
        """{"apiVersion":"@apiVersion@","kind":"@kind@","metadata":{"name":"@name@"@metadataExtra@},"spec":{"replicas":@replicas@,"selector":@selector@@specExtra@,"template":{"metadata":{"labels":@templateLabels@},"spec":{"containers":@containers@@podSpecExtra@}}}}""".Replace("@apiVersion@", apiVersion).Replace("@kind@", kind).Replace("@name@", name).Replace("@metadataExtra@", metadataExtra).Replace("@replicas@", replicas).Replace("@selector@", selector).Replace("@specExtra@", specExtra).Replace("@templateLabels@", templateLabels).Replace("@containers@", containers).Replace("@podSpecExtra@", podSpecExtra);

    public static string ReplicaSet(string name, string selector) =>
        """{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"@name@"},"spec":{"replicas":1,"selector":@selector@,"template":{"metadata":{"labels":{"app":"rs","v":"1"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}""".Replace("@name@", name).Replace("@selector@", selector);

    public static string Service(string name = "s1", string ports = """[{"port":80}]""", string type = "ClusterIP", string extra = "") =>
        """{"apiVersion":"v1","kind":"Service","metadata":{"name":"@name@"},"spec":{"type":"@type@","selector":{"app":"x"},"ports":@ports@@extra@}}""".Replace("@name@", name).Replace("@type@", type).Replace("@ports@", ports).Replace("@extra@", extra);

    private static string ConfigMap(string name = "cm1", string metadataExtra = "") =>
        """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"@name@"@metadataExtra@},"data":{"k":"v"}}""".Replace("@name@", name).Replace("@metadataExtra@", metadataExtra);

    /// <summary>A JSON object nested <paramref name="depth"/> levels below the field (each level one object).</summary>
    public static string Nested(int depth, string leaf = "1") =>
        string.Concat(Enumerable.Repeat("{\"a\":", depth)) + leaf + new string('}', depth);

    /// <summary>A YAML mapping nested <paramref name="depth"/> levels in flow style.</summary>
    public static string NestedYaml(int depth) => string.Concat(Enumerable.Repeat("{a: ", depth)) + "1" + new string('}', depth);

    /// <summary>The "billion laughs": nine levels of nine aliases in under 470 bytes.</summary>
    public static string AliasBomb(string prefix = "")
    {
        var yaml = new StringBuilder(prefix).Append("a0: &a0 [" + string.Join(",", Enumerable.Repeat("\"lol\"", 9)) + "]\n");
        for (var i = 1; i < 9; i++) yaml.Append($"a{i}: &a{i} [" + string.Join(",", Enumerable.Repeat($"*a{i - 1}", 9)) + "]\n");
        return yaml.ToString();
    }

    /// <summary>The k8s protobuf magic followed by unknown groups opened <paramref name="depth"/> times.</summary>
    public static byte[] NestedProtobufGroups(int depth) =>
        [.. "k8s\0"u8.ToArray(), .. Enumerable.Repeat(new byte[] { 0x9B, 0x06 }, depth).SelectMany(b => b)];

    private const string Apply = "?fieldManager=hostile";
    private const string ApplyType = "application/apply-patch+yaml";

    private static string Labels(string key, string value) => ""","labels":{"@key@":"@value@"}""".Replace("@key@", key).Replace("@value@", value);

    public static readonly IReadOnlyDictionary<string, BadInput> All = new Dictionary<string, BadInput>
    {
        // Authentication
        ["no token on list"] = new("GET", ConfigMaps, null, 401, "Unauthorized", Auth: Auth.None),
        ["wrong token on list"] = new("GET", ConfigMaps, null, 401, "Unauthorized", Auth: Auth.WrongToken),
        ["basic auth instead of token"] = new("GET", ConfigMaps, null, 401, "Unauthorized", Auth: Auth.Basic),
        ["no token on create"] = new("POST", ConfigMaps, ConfigMap("noauth"), 401, "Unauthorized", Auth: Auth.None),
        ["wrong token on delete"] = new("DELETE", Deployments + "/web", null, 401, "Unauthorized", Auth: Auth.WrongToken),

        // Bodies that are not objects of the resource
        ["truncated JSON"] = new("POST", Deployments, Deployment()[..60], 400, "BadRequest"),
        ["empty body"] = new("POST", Deployments, "", 400, "BadRequest"),
        ["JSON null"] = new("POST", Deployments, "null", 400, "BadRequest"),
        ["JSON array"] = new("POST", Deployments, "[]", 400, "BadRequest"),
        ["deeply nested JSON"] = new("POST", ConfigMaps, "{\"a\":" + new string('[', 5000) + new string(']', 5000) + "}", 400, "BadRequest"),
        ["text/plain body"] = new("POST", Deployments, Deployment(), 415, "UnsupportedMediaType", ContentType: "text/plain"),
        ["XML body"] = new("POST", Deployments, "<Deployment/>", 415, "UnsupportedMediaType", ContentType: "application/xml"),
        ["truncated protobuf"] = new("POST", Deployments, null, 400, "BadRequest", ContentType: "application/vnd.kubernetes.protobuf",
            Bytes: Fixtures.Read("deployment-web")[..40]),
        ["protobuf without the k8s magic"] = new("POST", Deployments, null, 400, "BadRequest",
            ContentType: "application/vnd.kubernetes.protobuf", Bytes: [0x0a, 0x03, 0x61, 0x62, 0x63, 0xff, 0xff]),
        ["protobuf of another kind"] = new("POST", Deployments, null, 400, "BadRequest",
            ContentType: "application/vnd.kubernetes.protobuf", Bytes: Fixtures.Read("namespace-demo")),
        ["oversized body"] = new("POST", ConfigMaps,
            ConfigMap("big")[..^1] + ",\"binaryData\":{\"b\":\"" + new string('A', 4 * 1024 * 1024) + "\"}}", 413, "RequestEntityTooLarge"),
        ["wrong kind in body"] = new("POST", Deployments, Service("d2"), 400, "BadRequest"),
        ["wrong apiVersion apps/v2"] = new("POST", Deployments, Deployment(apiVersion: "apps/v2"), 400, "BadRequest"),
        ["wrong apiVersion extensions/v1beta1"] = new("POST", Deployments, Deployment(apiVersion: "extensions/v1beta1"), 400, "BadRequest"),
        ["namespace mismatch"] = new("POST", Deployments, Deployment(metadataExtra: ",\"namespace\":\"kube-system\""), 400, "BadRequest"),
        ["name mismatch on update"] = new("PUT", Deployments + "/web", Deployment("other"), 400, "BadRequest"),
        ["replicas as a string"] = new("POST", Deployments, Deployment(replicas: "\"three\""), 400, "BadRequest"),
        ["replicas overflowing int32"] = new("POST", Deployments, Deployment(replicas: "1e20"), 400, "BadRequest"),
        ["labels as an array"] = new("POST", ConfigMaps, ConfigMap(metadataExtra: ",\"labels\":[\"a\"]"), 400, "BadRequest"),
        ["containers as an object"] = new("POST", Deployments, Deployment(containers: """{"name":"c"}"""), 400, "BadRequest"),
        ["metadata as a string"] = new("POST", ConfigMaps, """{"apiVersion":"v1","kind":"ConfigMap","metadata":"x"}""", 400, "BadRequest"),
        ["unknown field under Strict"] = new("POST", Deployments + "?fieldValidation=Strict", Deployment(specExtra: ",\"replica\":2"), 400, "BadRequest"),
        ["invalid dryRun value"] = new("POST", Deployments + "?dryRun=Some", Deployment(), 422, "Invalid", "dryRun"),

        // Bodies past the limits: depth, aliases, operations, copies (every parser, every patch type)
        ["JSON nested 10,000 deep"] = new("POST", ConfigMaps, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"deep\"},\"x\":" + Nested(10_000) + "}", 400, "BadRequest"),
        ["JSON nested 65 deep"] = new("POST", ConfigMaps, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"deep\"},\"x\":" + Nested(64) + "}", 400, "BadRequest"),
        ["YAML body nested 10,000 deep"] = new("POST", ConfigMaps, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\nx: " + NestedYaml(10_000), 400,
            "BadRequest", ContentType: "application/yaml"),
        ["YAML body alias bomb"] = new("POST", ConfigMaps, AliasBomb("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\n"), 400, "BadRequest",
            ContentType: "application/yaml"),
        ["apply nested 10,000 deep (YAML)"] = new("PATCH", ConfigMaps + "/deep" + Apply, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + NestedYaml(10_000),
            400, "BadRequest", ContentType: ApplyType),
        ["apply nested 5,000 deep (JSON)"] = new("PATCH", ConfigMaps + "/deep" + Apply, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"deep\"},\"data\":" + Nested(5_000) + "}",
            400, "BadRequest", ContentType: ApplyType),
        ["apply nested 100 deep"] = new("PATCH", ConfigMaps + "/deep" + Apply, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + NestedYaml(100),
            400, "BadRequest", ContentType: ApplyType),
        ["apply alias bomb"] = new("PATCH", ConfigMaps + "/bomb" + Apply, AliasBomb("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\n"), 400, "BadRequest",
            ContentType: ApplyType),
        ["apply that nests the object too deep"] = new("PATCH", ConfigMaps + "/deep" + Apply, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\n  annotations: " + NestedYaml(60),
            422, "Invalid", ContentType: ApplyType),
        ["merge patch nested 10,000 deep"] = new("PATCH", Deployments + "/web", "{\"spec\":" + Nested(10_000) + "}", 400, "BadRequest",
            ContentType: "application/merge-patch+json"),
        ["strategic patch nested 10,000 deep"] = new("PATCH", Deployments + "/web", "{\"spec\":" + Nested(10_000) + "}", 400, "BadRequest",
            ContentType: "application/strategic-merge-patch+json"),
        ["JSON patch value nested 10,000 deep"] = new("PATCH", Deployments + "/web", "[{\"op\":\"add\",\"path\":\"/spec/x\",\"value\":" + Nested(10_000) + "}]",
            400, "BadRequest", ContentType: "application/json-patch+json"),
        ["JSON patch that nests the object too deep"] = new("PATCH", Deployments + "/web",
            "[{\"op\":\"add\",\"path\":\"/spec/template/metadata/x\",\"value\":" + Nested(62) + "}]", 422, "Invalid",
            ContentType: "application/json-patch+json"),
        ["JSON patch of 10,001 operations"] = new("PATCH", Deployments + "/web",
            "[" + string.Join(",", Enumerable.Repeat("{\"op\":\"test\",\"path\":\"/kind\",\"value\":\"Deployment\"}", 10_001)) + "]", 413,
            "RequestEntityTooLarge", ContentType: "application/json-patch+json"),
        ["JSON patch copying past 3 MiB"] = new("PATCH", Deployments + "/web",
            "[{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{\"a\":\"" + new string('x', 1024 * 1024) + "\"}}," +
            string.Join(",", Enumerable.Range(0, 4).Select(i => $"{{\"op\":\"copy\",\"from\":\"/metadata/annotations/a\",\"path\":\"/metadata/annotations/c{i}\"}}")) + "]",
            422, "Invalid", ContentType: "application/json-patch+json"),
        ["scale body nested 10,000 deep"] = new("PUT", Deployments + "/web/scale", "{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"Scale\",\"x\":" + Nested(10_000) + "}",
            400, "BadRequest"),
        ["DeleteOptions nested 10,000 deep"] = new("DELETE", Deployments + "/web", "{\"x\":" + Nested(10_000) + "}", 400, "BadRequest"),
        ["protobuf groups nested 10,000 deep"] = new("POST", Deployments, null, 400, "BadRequest", ContentType: "application/vnd.kubernetes.protobuf",
            Bytes: NestedProtobufGroups(10_000)),

        // Duplicate fields and field validation
        ["duplicate field under Strict"] = new("POST", ConfigMaps + "?fieldValidation=Strict",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"a":"1","a":"2"}}""", 400, "BadRequest"),
        ["duplicate field in a patch under Strict"] = new("PATCH", Deployments + "/web?fieldValidation=Strict",
            """{"spec":{"replicas":2,"replicas":3}}""", 400, "BadRequest", ContentType: "application/merge-patch+json"),
        ["unknown fieldValidation directive"] = new("POST", ConfigMaps + "?fieldValidation=Loose", ConfigMap("fv"), 422, "Invalid", "fieldValidation"),

        // Wrong-but-harmless answers that must be Kubernetes' refusals
        ["apply without kind and apiVersion"] = new("PATCH", ConfigMaps + "/nokind" + Apply, """{"metadata":{"name":"nokind"},"data":{"a":"1"}}""",
            400, "BadRequest", ContentType: ApplyType),
        ["apply of another kind"] = new("PATCH", ConfigMaps + "/other" + Apply, "apiVersion: v1\nkind: Secret\nmetadata: {name: other}\n",
            400, "BadRequest", ContentType: ApplyType),
        ["$patch bogus on a map"] = new("PATCH", Deployments + "/web", """{"spec":{"$patch":"bogus"}}""", 400, "BadRequest",
            ContentType: "application/strategic-merge-patch+json"),
        ["$patch bogus in a keyed list"] = new("PATCH", Deployments + "/web",
            """{"spec":{"template":{"spec":{"containers":[{"name":"web","$patch":"bogus"}]}}}}""", 400, "BadRequest",
            ContentType: "application/strategic-merge-patch+json"),
        ["keyed list element without its key"] = new("PATCH", Deployments + "/web",
            """{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}""", 400, "BadRequest",
            ContentType: "application/strategic-merge-patch+json"),
        ["apply without a field manager"] = new("PATCH", ConfigMaps + "/nomanager", """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"nomanager"}}""",
            422, "Invalid", "fieldManager", ContentType: ApplyType),
        ["merge patch with force"] = new("PATCH", Deployments + "/web?force=true", """{"metadata":{"labels":{"a":"b"}}}""",
            422, "Invalid", "force", ContentType: "application/merge-patch+json"),
        ["apply with $patch bogus"] = new("PATCH", ConfigMaps + "/bogus" + Apply, """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bogus","$patch":"bogus"}}""",
            400, "BadRequest", ContentType: ApplyType),
        ["resourceVersion=abc on get"] = new("GET", Deployments + "/web?resourceVersion=abc", null, 400, "BadRequest"),
        ["resourceVersion=abc on list"] = new("GET", ConfigMaps + "?resourceVersion=abc", null, 400, "BadRequest"),
        ["resourceVersion=-1 on list"] = new("GET", ConfigMaps + "?resourceVersion=-1", null, 400, "BadRequest"),
        ["resourceVersionMatch without resourceVersion"] = new("GET", ConfigMaps + "?resourceVersionMatch=NotOlderThan", null, 422, "Invalid",
            "resourceVersionMatch"),
        ["resourceVersionMatch of an unknown kind"] = new("GET", ConfigMaps + "?resourceVersion=1&resourceVersionMatch=Newest", null, 422, "Invalid",
            "resourceVersionMatch"),
        ["resourceVersionMatch=Exact at a version gone"] = new("GET", ConfigMaps + "?resourceVersion=1&resourceVersionMatch=Exact", null, 410, "Expired"),
        ["gracePeriodSeconds=abc"] = new("DELETE", Deployments + "/web?gracePeriodSeconds=abc", null, 400, "BadRequest"),
        ["timeoutSeconds=abc on a watch"] = new("GET", ConfigMaps + "?watch=1&timeoutSeconds=abc", null, 400, "BadRequest"),
        ["dryRun=Some on delete"] = new("DELETE", Deployments + "/web?dryRun=Some", null, 422, "Invalid", "dryRun"),

        // Paths, verbs and queries
        ["unknown resource"] = new("GET", "/api/v1/namespaces/default/widgets", null, 404, "NotFound"),
        ["unknown group"] = new("POST", "/apis/example.com/v1/namespaces/default/widgets", "{}", 404, "NotFound"),
        ["unknown version of a known group"] = new("GET", "/apis/apps/v1beta1/deployments", null, 404, "NotFound"),
        ["cluster-scoped resource under a namespace"] = new("GET", "/api/v1/namespaces/default/nodes", null, 404, "NotFound"),
        ["unknown subresource"] = new("GET", Deployments + "/web/bogus", null, 404, "NotFound"),
        ["POST to an object path"] = new("POST", Deployments + "/web", Deployment("web"), 405, "MethodNotAllowed"),
        ["invalid set-based label selector"] = new("GET", ConfigMaps + "?labelSelector=app+in+(a", null, 400, "BadRequest"),
        ["invalid label selector operator"] = new("GET", ConfigMaps + "?labelSelector=app%3D%3D%3Db", null, 400, "BadRequest"),
        ["unsupported field selector"] = new("GET", ConfigMaps + "?fieldSelector=spec.foo%3Dbar", null, 400, "BadRequest"),
        ["malformed field selector"] = new("GET", ConfigMaps + "?fieldSelector=metadata.name", null, 400, "BadRequest"),
        ["watch from a malformed resourceVersion"] = new("GET", ConfigMaps + "?watch=1&resourceVersion=abc", null, 400, "BadRequest"),
        ["invalid propagationPolicy"] = new("DELETE", Deployments + "/web?propagationPolicy=Sideways", null, 422, "Invalid",
            "propagationPolicy"),

        // Patches
        ["patch with application/json"] = new("PATCH", Deployments + "/web", "{}", 415, "UnsupportedMediaType"),
        ["malformed merge patch"] = new("PATCH", Deployments + "/web", "{\"spec\":", 400, "BadRequest",
            ContentType: "application/merge-patch+json"),
        ["JSON patch that is not an array"] = new("PATCH", Deployments + "/web", "{\"op\":\"add\"}", 400, "BadRequest",
            ContentType: "application/json-patch+json"),
        ["JSON patch failing its test op"] = new("PATCH", Deployments + "/web",
            """[{"op":"test","path":"/spec/replicas","value":99},{"op":"replace","path":"/spec/replicas","value":5}]""", 422, "Invalid",
            ContentType: "application/json-patch+json"),
        ["merge patch making replicas negative"] = new("PATCH", Deployments + "/web", """{"spec":{"replicas":-1}}""", 422, "Invalid",
            "spec.replicas", ContentType: "application/merge-patch+json"),
        ["patch of a missing object"] = new("PATCH", Deployments + "/missing", "{}", 404, "NotFound",
            ContentType: "application/merge-patch+json"),
        ["strategic patch changing the selector"] = new("PATCH", Deployments + "/web",
            """{"spec":{"selector":{"matchLabels":{"app":"other"}},"template":{"metadata":{"labels":{"app":"other"}}}}}""", 422, "Invalid",
            "spec.selector", ContentType: "application/strategic-merge-patch+json"),

        // Names and metadata
        ["name of 300 characters"] = new("POST", ConfigMaps, ConfigMap(new string('a', 300)), 422, "Invalid", "metadata.name"),
        ["upper-case name"] = new("POST", ConfigMaps, ConfigMap("Web"), 422, "Invalid", "metadata.name"),
        ["namespace name with dots"] = new("POST", "/api/v1/namespaces",
            """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a.b"}}""", 422, "Invalid", "metadata.name"),
        // .NET's '$' also matches before a final newline; Go's (kube's validation) only at the end of the text
        ["name ending in a newline"] = new("POST", ConfigMaps, ConfigMap("cm1\\n"), 422, "Invalid", "metadata.name"),
        ["namespace name ending in a newline"] = new("POST", "/api/v1/namespaces",
            """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns1\n"}}""", 422, "Invalid", "metadata.name"),
        ["ConfigMap key ending in a newline"] = new("POST", ConfigMaps,
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm1"},"data":{"k\n":"v"}}""", 422, "Invalid", "data[k\n]"),
        ["container port name ending in a newline"] = new("POST", Deployments,
            Deployment(containers: """[{"name":"c","image":"i","ports":[{"name":"http\n","containerPort":80}]}]"""), 422, "Invalid",
            "spec.template.spec.containers[0].ports[0].name"),
        ["service name starting with a digit"] = new("POST", Services, Service("1svc"), 422, "Invalid", "metadata.name"),
        ["no name and no generateName"] = new("POST", ConfigMaps, """{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}""", 422, "Invalid",
            "metadata.name"),
        ["label key with a space"] = new("POST", ConfigMaps, ConfigMap(metadataExtra: Labels("bad key", "v")), 422, "Invalid", "metadata.labels"),
        ["label key with an empty prefix"] = new("POST", ConfigMaps, ConfigMap(metadataExtra: Labels("/x", "v")), 422, "Invalid", "metadata.labels"),
        ["label value of 64 characters"] = new("POST", ConfigMaps, ConfigMap(metadataExtra: Labels("k", new string('v', 64))), 422, "Invalid",
            "metadata.labels"),
        ["label value with a slash"] = new("POST", ConfigMaps, ConfigMap(metadataExtra: Labels("k", "a/b")), 422, "Invalid", "metadata.labels"),
        ["template label value ending in a dash"] = new("POST", Deployments,
            Deployment(selector: """{"matchLabels":{"app":"x-"}}""", templateLabels: """{"app":"x-"}"""), 422, "Invalid",
            "spec.selector.matchLabels"),
        ["annotation key with a space"] = new("POST", ConfigMaps, ConfigMap(metadataExtra: ",\"annotations\":{\"a b\":\"v\"}"), 422, "Invalid",
            "metadata.annotations"),
        ["create in a missing namespace"] = new("POST", "/api/v1/namespaces/nowhere/configmaps", ConfigMap(), 404, "NotFound"),
        ["create an existing object"] = new("POST", Deployments, Deployment("web", selector: """{"matchLabels":{"app":"web"}}""",
            templateLabels: """{"app":"web"}"""), 409, "AlreadyExists"),
        ["update with a stale resourceVersion"] = new("PUT", Deployments + "/web",
            Deployment("web", selector: """{"matchLabels":{"app":"web"}}""", templateLabels: """{"app":"web"}""",
                metadataExtra: ",\"resourceVersion\":\"1\""), 409, "Conflict"),
        ["update of a missing object"] = new("PUT", Deployments + "/missing", Deployment("missing"), 404, "NotFound"),
        ["delete of a missing object"] = new("DELETE", Deployments + "/missing", null, 404, "NotFound"),

        // Workload specs
        ["negative replicas"] = new("POST", Deployments, Deployment(replicas: "-1"), 422, "Invalid", "spec.replicas"),
        ["negative replicas on a replicaset"] = new("POST", ReplicaSets,
            ReplicaSet("rs2", """{"matchLabels":{"app":"rs"}}""").Replace("\"replicas\":1", "\"replicas\":-3"), 422, "Invalid", "spec.replicas"),
        ["selector not matching the template"] = new("POST", Deployments, Deployment(templateLabels: """{"app":"y"}"""), 422, "Invalid",
            "spec.template.metadata.labels"),
        ["empty selector"] = new("POST", Deployments, Deployment(selector: "{}"), 422, "Invalid", "spec.selector"),
        ["selector with an unknown operator"] = new("POST", Deployments,
            Deployment(selector: """{"matchExpressions":[{"key":"app","operator":"Near","values":["x"]}]}"""), 422, "Invalid",
            "spec.selector.matchExpressions[0].operator"),
        ["no containers"] = new("POST", Deployments, Deployment(containers: "[]"), 422, "Invalid", "spec.template.spec.containers"),
        ["container without image"] = new("POST", Deployments, Deployment(containers: """[{"name":"c"}]"""), 422, "Invalid",
            "spec.template.spec.containers[0].image"),
        ["duplicate container names"] = new("POST", Deployments,
            Deployment(containers: """[{"name":"c","image":"i"},{"name":"c","image":"j"}]"""), 422, "Invalid",
            "spec.template.spec.containers[1].name"),
        ["container port 0"] = new("POST", Deployments, Deployment(containers: """[{"name":"c","image":"i","ports":[{"containerPort":0}]}]"""),
            422, "Invalid", "spec.template.spec.containers[0].ports[0].containerPort"),
        ["container port 70000"] = new("POST", Deployments,
            Deployment(containers: """[{"name":"c","image":"i","ports":[{"containerPort":70000}]}]"""), 422, "Invalid",
            "spec.template.spec.containers[0].ports[0].containerPort"),
        ["hostPort 70000"] = new("POST", Deployments,
            Deployment(containers: """[{"name":"c","image":"i","ports":[{"containerPort":80,"hostPort":70000}]}]"""), 422, "Invalid",
            "spec.template.spec.containers[0].ports[0].hostPort"),
        ["duplicate container port names"] = new("POST", Deployments,
            Deployment(containers: """[{"name":"c","image":"i","ports":[{"name":"http","containerPort":80},{"name":"http","containerPort":81}]}]"""),
            422, "Invalid", "spec.template.spec.containers[0].ports[1].name"),
        ["unsupported restartPolicy for a deployment"] = new("POST", Deployments, Deployment(podSpecExtra: ",\"restartPolicy\":\"Never\""), 422,
            "Invalid", "spec.template.spec.restartPolicy"),
        ["readiness gate condition type not a qualified name"] = new("POST", Deployments,
            Deployment(podSpecExtra: ",\"readinessGates\":[{\"conditionType\":\"bad type!\"}]"), 422, "Invalid",
            "spec.template.spec.readinessGates[0].conditionType"),
        ["readiness gate entry null"] = new("POST", Deployments,
            Deployment(podSpecExtra: ",\"readinessGates\":[null]"), 422, "Invalid", "spec.template.spec.readinessGates[0].conditionType"),
        ["negative terminationGracePeriodSeconds"] = new("POST", Deployments,
            Deployment(podSpecExtra: ",\"terminationGracePeriodSeconds\":-5"), 422, "Invalid", "spec.template.spec.terminationGracePeriodSeconds"),
        ["unknown strategy type"] = new("POST", Deployments, Deployment(specExtra: ",\"strategy\":{\"type\":\"Blue\"}"), 422, "Invalid",
            "spec.strategy.type"),
        ["replicaset selector change"] = new("PUT", ReplicaSets + "/rs", ReplicaSet("rs", """{"matchLabels":{"app":"rs","v":"1"}}"""), 422,
            "Invalid", "spec.selector"),

        // Services
        ["service port 0"] = new("POST", Services, Service(ports: """[{"port":0}]"""), 422, "Invalid", "spec.ports[0].port"),
        ["service port 70000"] = new("POST", Services, Service(ports: """[{"port":70000}]"""), 422, "Invalid", "spec.ports[0].port"),
        ["targetPort 70000"] = new("POST", Services, Service(ports: """[{"port":80,"targetPort":70000}]"""), 422, "Invalid",
            "spec.ports[0].targetPort"),
        ["no service ports"] = new("POST", Services, Service(ports: "[]"), 422, "Invalid", "spec.ports"),
        ["duplicate service ports"] = new("POST", Services, Service(ports: """[{"name":"a","port":80},{"name":"b","port":80}]"""), 422,
            "Invalid", "spec.ports[1]"),
        ["duplicate service port names"] = new("POST", Services, Service(ports: """[{"name":"a","port":80},{"name":"a","port":81}]"""), 422,
            "Invalid", "spec.ports[1].name"),
        ["unnamed ports among several"] = new("POST", Services, Service(ports: """[{"port":80},{"port":81}]"""), 422, "Invalid",
            "spec.ports[0].name"),
        ["unknown service protocol"] = new("POST", Services, Service(ports: """[{"port":80,"protocol":"HTTP"}]"""), 422, "Invalid",
            "spec.ports[0].protocol"),
        ["unknown service type"] = new("POST", Services, Service(type: "Magic"), 422, "Invalid", "spec.type"),
        ["nodePort below the range"] = new("POST", Services, Service(type: "NodePort", ports: """[{"port":80,"nodePort":20000}]"""), 422,
            "Invalid", "spec.ports[0].nodePort"),
        ["nodePort above the range"] = new("POST", Services, Service(type: "NodePort", ports: """[{"port":80,"nodePort":40000}]"""), 422,
            "Invalid", "spec.ports[0].nodePort"),
        ["nodePort already allocated"] = new("POST", Services, Service(type: "NodePort", ports: """[{"port":80,"nodePort":30100}]"""), 422,
            "Invalid", "spec.ports[0].nodePort"),
        ["nodePort twice in one service"] = new("POST", Services,
            Service(type: "NodePort", ports: """[{"name":"a","port":80,"nodePort":30200},{"name":"b","port":81,"nodePort":30200}]"""), 422,
            "Invalid", "spec.ports[1].nodePort"),
        ["nodePort on a ClusterIP service"] = new("POST", Services, Service(ports: """[{"port":80,"nodePort":30300}]"""), 422, "Invalid",
            "spec.ports[0].nodePort"),
        ["clusterIP outside the range"] = new("POST", Services, Service(extra: ",\"clusterIP\":\"192.168.1.1\""), 422, "Invalid",
            "spec.clusterIPs"),
        ["clusterIP that is not an address"] = new("POST", Services, Service(extra: ",\"clusterIP\":\"not-an-ip\""), 422, "Invalid",
            "spec.clusterIPs"),
        ["clusterIP change"] = new("PATCH", Services + "/plain", """{"spec":{"clusterIP":"10.96.7.7","clusterIPs":["10.96.7.7"]}}""", 422,
            "Invalid", "spec.clusterIPs[0]", ContentType: "application/merge-patch+json"),
        ["pod spec change other than the image"] = new("PATCH", "/api/v1/namespaces/default/pods/pod",
            """{"spec":{"containers":[{"name":"c","image":"i","args":["x"]}]}}""", 422, "Invalid", "spec",
            ContentType: "application/strategic-merge-patch+json"),
        ["externalName service without a name"] = new("POST", Services, Service(type: "ExternalName"), 422, "Invalid", "spec.externalName"),
    };

    public static IEnumerable<object[]> Names => All.Keys.Select(k => new object[] { k });
}
