using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>core/v1 ConfigMap: keys are config keys, unique across data and binaryData, 1 MiB in all; once
/// <c>immutable</c>, neither the data nor the flag may change (Kubernetes' ValidateConfigMap/ValidateConfigMapUpdate).</summary>
internal sealed class ConfigMapStrategy : ModelStrategy<V1ConfigMap>
{
    protected override void Validate(V1ConfigMap cm, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        long size = 0;
        foreach (var (key, value) in cm.Data ?? new Dictionary<string, string>())
        {
            ConfigKeys.Validate($"data[{key}]", key, causes);
            size += key.Length + System.Text.Encoding.UTF8.GetByteCount(value);
        }
        foreach (var (key, value) in cm.BinaryData ?? new Dictionary<string, byte[]>())
        {
            ConfigKeys.Validate($"binaryData[{key}]", key, causes);
            if (cm.Data?.ContainsKey(key) == true) causes.Add(FieldErrors.Invalid($"data[{key}]", key, "duplicate of key present in binaryData"));
            size += key.Length + value.Length;
        }
        if (size > ConfigKeys.MaxSize)
            causes.Add(new StoreErrorCause("[]", "FieldValueTooLong", $"Too long: may not be more than {ConfigKeys.MaxSize} bytes"));
    }

    protected override void ValidateUpdate(V1ConfigMap cm, V1ConfigMap old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        Validate(cm, context, causes);
        if (old.Immutable != true) return;
        if (cm.Immutable != true) causes.Add(FieldErrors.Forbidden("immutable", ConfigKeys.ImmutableMessage));
        if (!KubeObjects.SameJson(cm.Data ?? new Dictionary<string, string>(), old.Data ?? new Dictionary<string, string>()))
            causes.Add(FieldErrors.Forbidden("data", ConfigKeys.ImmutableMessage));
        if (!KubeObjects.SameJson(cm.BinaryData ?? new Dictionary<string, byte[]>(), old.BinaryData ?? new Dictionary<string, byte[]>()))
            causes.Add(FieldErrors.Forbidden("binaryData", ConfigKeys.ImmutableMessage));
    }
}

/// <summary>core/v1 Secret: <c>stringData</c> is merged into <c>data</c> (and never stored), the type defaults to Opaque
/// and cannot change; keys are config keys, 1 MiB in all; once <c>immutable</c>, neither the data nor the flag may change.</summary>
internal sealed class SecretStrategy : ModelStrategy<V1Secret>
{
    protected override void Default(V1Secret secret)
    {
        secret.Type ??= "Opaque";
        if (secret.StringData is not { Count: > 0 } stringData) return;
        // the API server's conversion: stringData's keys overwrite data's
        secret.Data ??= new Dictionary<string, byte[]>();
        foreach (var (key, value) in stringData) secret.Data[key] = System.Text.Encoding.UTF8.GetBytes(value);
        secret.StringData = null;
    }

    protected override void Validate(V1Secret secret, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        long size = 0;
        foreach (var (key, value) in secret.Data ?? new Dictionary<string, byte[]>())
        {
            ConfigKeys.Validate($"data[{key}]", key, causes);
            size += value.Length;
        }
        if (size > ConfigKeys.MaxSize) causes.Add(new StoreErrorCause("data", "FieldValueTooLong", $"Too long: may not be more than {ConfigKeys.MaxSize} bytes"));
        ValidateType(secret, causes);
    }

    /// <summary>kube's checks of the well-known types: what each needs before anything uses it. A token Secret needs only
    /// the account it is for; the token controller fills in the rest.</summary>
    private static void ValidateType(V1Secret secret, List<StoreErrorCause> causes)
    {
        var data = secret.Data ?? new Dictionary<string, byte[]>();
        switch (secret.Type)
        {
            case ServiceAccountTokenType:
                if (!(secret.Metadata.Annotations?.TryGetValue("kubernetes.io/service-account.name", out var account) == true && account.Length > 0))
                    causes.Add(FieldErrors.Required("metadata.annotations[kubernetes.io/service-account.name]"));
                break;
            case "kubernetes.io/dockercfg":
                RequireJsonObject(data, ".dockercfg", causes);
                break;
            case "kubernetes.io/dockerconfigjson":
                RequireJsonObject(data, ".dockerconfigjson", causes);
                break;
            case "kubernetes.io/basic-auth":
                // (kube's field path really is "data[%s]" with the key after it)
                if (!data.ContainsKey("username") && !data.ContainsKey("password"))
                {
                    causes.Add(FieldErrors.Required("data[%s][username]"));
                    causes.Add(FieldErrors.Required("data[%s][password]"));
                }
                break;
            case "kubernetes.io/ssh-auth":
                if (!(data.TryGetValue("ssh-privatekey", out var key) && key.Length > 0)) causes.Add(FieldErrors.Required("data[%s][ssh-privatekey]"));
                break;
            case "kubernetes.io/tls":
                if (!data.ContainsKey("tls.crt")) causes.Add(FieldErrors.Required("data[tls.crt]"));
                if (!data.ContainsKey("tls.key")) causes.Add(FieldErrors.Required("data[tls.key]"));
                break;
        }
    }

    /// <summary>The key must be there and hold JSON that Go's encoding/json reads into a map (an object, or null).</summary>
    private static void RequireJsonObject(IDictionary<string, byte[]> data, string key, List<StoreErrorCause> causes)
    {
        if (!data.TryGetValue(key, out var bytes))
        {
            causes.Add(FieldErrors.Required($"data[{key}]"));
            return;
        }
        if (GoJsonMapError(bytes) is { } error) causes.Add(FieldErrors.Invalid($"data[{key}]", "<secret contents redacted>", error));
    }

    /// <summary>Go's json.Unmarshal error for <paramref name="json"/> read into a map[string]interface{}, null when it reads.</summary>
    internal static string? GoJsonMapError(byte[] json)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            var kind = document.RootElement.ValueKind switch
            {
                System.Text.Json.JsonValueKind.Array => "array",
                System.Text.Json.JsonValueKind.String => "string",
                System.Text.Json.JsonValueKind.Number => "number",
                System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => "bool",
                _ => null,
            };
            return kind is null ? null : $"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}";
        }
        catch (System.Text.Json.JsonException e)
        {
            var start = System.Text.RegularExpressions.Regex.Match(e.Message, "^'(.)' is an invalid start of a value");
            if (start.Success) return $"invalid character '{start.Groups[1].Value}' looking for beginning of value";
            var key = System.Text.RegularExpressions.Regex.Match(e.Message, "^'(.)' is an invalid start of a property name");
            if (key.Success) return $"invalid character '{key.Groups[1].Value}' looking for beginning of object key string";
            return json.All(b => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') || e.Message.Contains("end of data", StringComparison.OrdinalIgnoreCase)
                   || e.Message.Contains("Expected depth to be zero", StringComparison.Ordinal)
                ? "unexpected end of JSON input"
                : "invalid JSON: " + e.Message.Split(" LineNumber:")[0];
        }
    }

    public const string ServiceAccountTokenType = "kubernetes.io/service-account-token";

    protected override void ValidateUpdate(V1Secret secret, V1Secret old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        Validate(secret, context, causes);
        if ((secret.Type ?? "Opaque") != (old.Type ?? "Opaque")) causes.Add(FieldErrors.Invalid("type", secret.Type, "field is immutable"));
        if (old.Immutable != true) return;
        if (secret.Immutable != true) causes.Add(FieldErrors.Forbidden("immutable", ConfigKeys.ImmutableMessage));
        if (!KubeObjects.SameJson(secret.Data ?? new Dictionary<string, byte[]>(), old.Data ?? new Dictionary<string, byte[]>()))
            causes.Add(FieldErrors.Forbidden("data", ConfigKeys.ImmutableMessage));
    }
}
