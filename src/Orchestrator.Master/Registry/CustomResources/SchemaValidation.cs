using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>
/// Validation of a custom object (or a schema's default) against its structural schema, with the API server's
/// causes (kube-openapi's messages turned into field errors as apiextensions-apiserver does): types, formats, enum,
/// pattern, lengths, bounds, multipleOf, item and property counts, required fields, nullable, int-or-string,
/// list-type set and map uniqueness, allOf/anyOf/oneOf/not, embedded resources' apiVersion and kind, and the
/// <c>x-kubernetes-validations</c> CEL rules (transition rules see <c>oldSelf</c> where the old value correlates:
/// object fields by name, map-list items by their keys).
/// </summary>
internal static class SchemaValidation
{
    private static readonly HashSet<string> Blocking =
        ["FieldValueNotSupported", "FieldValueRequired", "FieldValueTooLong", "FieldValueTooMany", "FieldValueTypeInvalid"];

    /// <summary>The schema's causes; then, unless one of them leaves the object unfit for CEL (a wrong type, a missing
    /// required field, …, which Kubernetes reports instead), the CEL rules' causes.</summary>
    public static IReadOnlyList<StoreErrorCause> Validate(JsonNode? value, SchemaNode schema, string path, JsonNode? old, bool celRules)
    {
        var causes = new List<StoreErrorCause>();
        Node(value, schema, path, causes);
        if (!celRules || !HasRules(schema)) return causes;
        if (causes.Any(c => Blocking.Contains(c.Reason)))
        {
            causes.Add(new StoreErrorCause("<nil>", "FieldValueInvalid",
                "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"));
            return causes;
        }
        RunRules(value, schema, path, old, hasOld: old is not null, new CelBudget(), causes);
        return causes;
    }

    private static bool HasRules(SchemaNode s) =>
        s.Rules.Count > 0 || s.Properties.Values.Any(HasRules) || (s.AdditionalProperties is { } a && HasRules(a)) || (s.Items is { } i && HasRules(i));

    /// <summary>The CEL rules of every node the value reaches; old values correlate by object field and map-list key. All
    /// share one cost budget (kube's RuntimeCELCostBudget); once it is spent, or one rule passed the per-call limit, no
    /// further rule runs.</summary>
    private static void RunRules(JsonNode? value, SchemaNode s, string path, JsonNode? old, bool hasOld, CelBudget budget,
        List<StoreErrorCause> causes)
    {
        if (budget.Exhausted) return;
        switch (value)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj)
                {
                    if (s.Member(key) is not { } member) continue;
                    var oldObj = old as JsonObject;
                    var correlated = hasOld && oldObj is not null && oldObj.ContainsKey(key);
                    RunRules(child, member, FieldPath.Child(path, key), correlated ? oldObj![key] : null, correlated, budget, causes);
                }
                break;
            case JsonArray array when s.Items is { } items:
                for (var i = 0; i < array.Count; i++)
                {
                    var oldItem = hasOld && s.ListType == "map" && old is JsonArray oldArray
                        ? oldArray.FirstOrDefault(o => SameKeys(o, array[i], s.ListMapKeys))
                        : null;
                    RunRules(array[i], items, FieldPath.Index(path, i), oldItem, oldItem is not null, budget, causes);
                }
                break;
        }
        if (value is not null && !budget.Exhausted) Rules(value, s, path, old, hasOld, budget, causes);
    }

    private static void Node(JsonNode? value, SchemaNode s, string path, List<StoreErrorCause> causes)
    {
        var name = path.Length == 0 ? "" : path;
        if (value is null)
        {
            if (!s.Nullable && (s.Type is not null || s.IntOrString))
            {
                var expected = s.IntOrString ? "integer,string" : s.Type!;
                causes.Add(TypeInvalid(path, "null", $"{name} in body must be of type {expected}: \"null\""));
            }
            return;
        }
        var actual = JsonType(value);
        if (s.IntOrString)
        {
            if (actual is not ("integer" or "string"))
            {
                causes.Add(TypeInvalid(path, actual, $"{name} in body must be of type integer,string: \"{actual}\""));
                return;
            }
        }
        else if (s.Type is { } type && !(type == actual || (type == "number" && actual == "integer")))
        {
            causes.Add(TypeInvalid(path, actual, $"{name} in body must be of type {type}: \"{actual}\""));
            return;
        }

        if (s.Enum is { } allowed && !allowed.Any(a => JsonNode.DeepEquals(a, value)))
            causes.Add(FieldErrors.NotSupported(path, Scalar(value), allowed.Select(a => a is JsonValue v && v.TryGetValue<string>(out var t) ? t : a?.ToJsonString() ?? "null")));

        switch (value)
        {
            case JsonValue v when v.TryGetValue<string>(out var text):
                StringRules(text, s, path, name, causes);
                break;
            case JsonValue v when v.TryGetValue<double>(out var number):
                NumberRules(number, s, path, name, causes);
                break;
            case JsonArray array:
                ArrayRules(array, s, path, name, causes);
                break;
            case JsonObject obj:
                ObjectRules(obj, s, path, name, causes);
                break;
        }

        Junctors(value, s, path, name, causes);
    }

    private static void StringRules(string text, SchemaNode s, string path, string name, List<StoreErrorCause> causes)
    {
        var length = new StringInfo(text).LengthInTextElements;
        if (s.MaxLength is { } max && length > max) causes.Add(TooLong(path, max));
        if (s.MinLength is { } min && length < min) causes.Add(FieldErrors.Invalid(path, text, $"{name} in body should be at least {min} chars long"));
        if (s.PatternRegex is { } regex && !regex.IsMatch(text))
            causes.Add(FieldErrors.Invalid(path, text, $"{name} in body should match '{s.Pattern}'"));
        if (s.Format is { } format && !FormatHolds(format, text))
            causes.Add(FieldErrors.Invalid(path, text, $"{name} in body must be of type {format}: \"{text}\""));
    }

    private static void NumberRules(double number, SchemaNode s, string path, string name, List<StoreErrorCause> causes)
    {
        object shown = number == Math.Floor(number) && Math.Abs(number) < 1e15 ? (long)number : number;
        if (s.Maximum is { } max && (s.ExclusiveMaximum ? number >= max : number > max))
            causes.Add(FieldErrors.Invalid(path, shown, $"{name} in body should be less than {(s.ExclusiveMaximum ? "" : "or equal to ")}{Go(max)}"));
        if (s.Minimum is { } min && (s.ExclusiveMinimum ? number <= min : number < min))
            causes.Add(FieldErrors.Invalid(path, shown, $"{name} in body should be greater than {(s.ExclusiveMinimum ? "" : "or equal to ")}{Go(min)}"));
        if (s.MultipleOf is { } factor && factor > 0 && Math.Abs(number / factor - Math.Round(number / factor)) > 1e-9)
            causes.Add(FieldErrors.Invalid(path, shown, $"{name} in body should be a multiple of {Go(factor)}"));
    }

    private static void ArrayRules(JsonArray array, SchemaNode s, string path, string name, List<StoreErrorCause> causes)
    {
        if (s.MaxItems is { } max && array.Count > max) causes.Add(TooMany(path, array.Count, max));
        if (s.MinItems is { } min && array.Count < min)
            causes.Add(FieldErrors.Invalid(path, (long)array.Count, $"{name} in body should have at least {min} items"));
        if (s.ListType == "set")
            for (var i = 0; i < array.Count; i++)
                if (array.Take(i).Any(earlier => JsonNode.DeepEquals(earlier, array[i])))
                    causes.Add(FieldErrors.Duplicate(FieldPath.Index(path, i), Scalar(array[i])));
        if (s.ListType == "map" && s.ListMapKeys.Count > 0)
            for (var i = 0; i < array.Count; i++)
                if (array.Take(i).Any(earlier => SameKeys(earlier, array[i], s.ListMapKeys)))
                    causes.Add(FieldErrors.Duplicate(FieldPath.Index(path, i), new RawValue(KeyText(array[i], s.ListMapKeys))));
        if (s.Items is not { } items) return;
        for (var i = 0; i < array.Count; i++) Node(array[i], items, FieldPath.Index(path, i), causes);
    }

    private static void ObjectRules(JsonObject obj, SchemaNode s, string path, string name, List<StoreErrorCause> causes)
    {
        if (s.MaxProperties is { } max && obj.Count > max) causes.Add(TooMany(path, obj.Count, max));
        if (s.MinProperties is { } min && obj.Count < min)
            causes.Add(FieldErrors.Invalid(path, (long)obj.Count, $"{name} in body should have at least {min} properties"));
        foreach (var required in s.Required)
            if (!obj.ContainsKey(required)) causes.Add(FieldErrors.Required(FieldPath.Child(path, required)));
        if (s.EmbeddedResource)
        {
            if (obj["apiVersion"] is not JsonValue) causes.Add(FieldErrors.Required(FieldPath.Child(path, "apiVersion"), "must not be empty"));
            if (obj["kind"] is not JsonValue) causes.Add(FieldErrors.Required(FieldPath.Child(path, "kind"), "must not be empty"));
        }
        foreach (var (key, child) in obj)
            if (s.Member(key) is { } member) Node(child, member, FieldPath.Child(path, key), causes);
    }

    private static void Junctors(JsonNode value, SchemaNode s, string path, string name, List<StoreErrorCause> causes)
    {
        foreach (var part in s.AllOf) Node(value, part, path, causes);
        if (s.AnyOf.Count > 0 && !s.AnyOf.Any(part => Validate(value, part, path, null, false).Count == 0))
            causes.Add(FieldErrors.Invalid(path, Scalar(value), $"{name} in body must validate at least one schema (anyOf)"));
        if (s.OneOf.Count > 0)
        {
            var matching = s.OneOf.Count(part => Validate(value, part, path, null, false).Count == 0);
            if (matching != 1) causes.Add(FieldErrors.Invalid(path, Scalar(value), $"{name} in body must validate one and only one schema (oneOf)"));
        }
        if (s.Not is { } not && Validate(value, not, path, null, false).Count == 0)
            causes.Add(FieldErrors.Invalid(path, Scalar(value), $"{name} in body must not validate the schema (not)"));
    }

    /// <summary>The node's CEL rules, as kube's validateExpressions. A failure names the node's type as its value, as the
    /// API server does; its message is the messageExpression's string when that evaluates to a usable one, else the
    /// message, else "failed rule: …".</summary>
    private static void Rules(JsonNode value, SchemaNode s, string path, JsonNode? old, bool hasOld, CelBudget budget,
        List<StoreErrorCause> causes)
    {
        if (s.Rules.Count == 0) return;
        var self = SchemaCelValues.ToCel(value, s);
        object? oldSelf = null;
        var oldConverted = false;
        var shown = s.IntOrString ? "integer-or-string" : s.Type ?? JsonType(value);
        foreach (var rule in s.Rules)
        {
            if (rule.UsesOldSelf && !hasOld && !rule.OptionalOldSelf) continue;
            if (rule.UsesOldSelf && !oldConverted)
            {
                oldSelf = SchemaCelValues.ToCel(old, s);
                oldConverted = true;
            }
            var (holds, error) = CelRules.Evaluate(rule.Rule, self, oldSelf, budget);
            if (budget.Exhausted)
            {
                causes.Add(FieldErrors.Invalid(path, shown, CelCost.BudgetExhausted));
                return;
            }
            if (error == CelCost.LimitExceeded)
            {
                causes.Add(FieldErrors.Invalid(path, shown,
                    $"'{error}': no further validation rules will be run due to call cost exceeds limit for rule: {rule.ErrorString}"));
                budget.Remaining = -1;
                return;
            }
            if (holds) continue;
            var at = rule.FieldPath is { Length: > 1 } relative ? path + relative : path;
            // kube's words for a rule that could not be evaluated (no such key, division by zero, …)
            if (error is not null)
            {
                causes.Add(FieldErrors.Invalid(path, shown, error.StartsWith("no such overload", StringComparison.Ordinal)
                    ? $"'{error}': call arguments did not match a supported operator, function or macro signature for rule: {rule.ErrorString}"
                    : $"{error} evaluating rule: {rule.ErrorString}"));
                continue;
            }
            string message;
            if (rule.MessageExpression is { } messageExpression)
            {
                var (text, fatal) = EvaluateMessage(messageExpression, self, oldSelf, budget);
                if (fatal)
                {
                    causes.Add(FieldErrors.Invalid(path, shown, text!));
                    return;
                }
                message = text ?? rule.DefaultMessage;
            }
            else message = rule.DefaultMessage;
            var cause = rule.Reason switch
            {
                "FieldValueForbidden" => FieldErrors.Forbidden(at, message),
                "FieldValueRequired" => FieldErrors.Required(at, message),
                "FieldValueDuplicate" => new StoreErrorCause(at, "FieldValueDuplicate", $"Duplicate value: {FieldErrors.Format(shown)}: {message}"),
                _ => FieldErrors.Invalid(at, shown, message),
            };
            causes.Add(cause);
        }
    }

    /// <summary>kube's evalMessageExpression: the trimmed string, or null (the rule's message is used instead) when it
    /// fails, is no string, is empty, longer than 5 KiB or of several lines; or, when it ran past the cost limit or the
    /// budget, the error that ends validation (<c>Fatal</c>).</summary>
    private static (string? Text, bool Fatal) EvaluateMessage(string expression, object? self, object? oldSelf, CelBudget budget)
    {
        var (value, error) = CelRules.Run(expression, new Dictionary<string, object?> { ["self"] = self, ["oldSelf"] = oldSelf }, budget);
        if (error == CelCost.LimitExceeded)
        {
            budget.Remaining = -1;
            return ($"no further validation rules will be run due to call cost exceeds limit for messageExpression: {GoQuote.Quote(expression)}", true);
        }
        if (budget.Exhausted)
            return ("messageExpression evaluation failed due to running out of cost budget, no further validation rules will be run", true);
        return error is null && value is string text && text.Trim() is { Length: > 0 } trimmed &&
               System.Text.Encoding.UTF8.GetByteCount(trimmed) <= MaxMessageExpressionBytes && !trimmed.Contains('\n')
            ? (trimmed, false)
            : (null, false);
    }

    /// <summary>kube's MaxEvaluatedMessageExpressionSizeBytes.</summary>
    private const int MaxMessageExpressionBytes = 5 * 1024;

    /// <summary>The layouts a <c>date-time</c> string is read with (RFC 3339), for validation and for CEL's timestamps.</summary>
    public static readonly string[] DateTimeLayouts =
        ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"];

    private static bool FormatHolds(string format, string text) => format switch
    {
        "date-time" or "datetime" => DateTimeOffset.TryParseExact(text, DateTimeLayouts, CultureInfo.InvariantCulture,
            DateTimeStyles.None, out _),
        "date" => DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
        "uuid" => Guid.TryParseExact(text, "D", out _),
        "byte" => text.Length % 4 == 0 && Convert.TryFromBase64String(text, new byte[text.Length], out _),
        "ipv4" => IPAddress.TryParse(text, out var v4) && v4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && text.Count(c => c == '.') == 3,
        "ipv6" => IPAddress.TryParse(text, out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6,
        "cidr" => text.Split('/') is [var ip, var bits] && IPAddress.TryParse(ip, out var address) && int.TryParse(bits, out var b) &&
                  b >= 0 && b <= (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128),
        "hostname" => text.Length <= 255 && Regex.IsMatch(text, @"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\z"),
        "email" => Regex.IsMatch(text, @"^[^@\s]+@[^@\s]+\.[^@\s]+\z"),
        "mac" => Regex.IsMatch(text, @"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}\z"),
        "duration" => Regex.IsMatch(text, @"^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+\z") || text == "0",
        _ => true, // int32, int64, float, double, password and formats Kubernetes does not check
    };

    private static bool SameKeys(JsonNode? a, JsonNode? b, IReadOnlyList<string> keys) =>
        a is JsonObject x && b is JsonObject y && keys.All(k => JsonNode.DeepEquals(x[k], y[k]));

    private static string KeyText(JsonNode? item, IReadOnlyList<string> keys) =>
        "map[string]interface {}{" + string.Join(", ", keys.Select(k => $"\"{k}\":{(item as JsonObject)?[k]?.ToJsonString() ?? "<nil>"}")) + "}";

    /// <summary>"string", "integer", "number", "boolean", "array", "object": the JSON type of a value.</summary>
    public static string JsonType(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v when v.TryGetValue<string>(out _) => "string",
        JsonValue v when v.TryGetValue<bool>(out _) => "boolean",
        JsonValue v when v.TryGetValue<long>(out _) => "integer",
        _ => "number",
    };

    private static object? Scalar(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        null => null,
        _ => new RawValue(node.ToJsonString()),
    };

    private static string Go(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static StoreErrorCause TypeInvalid(string path, string value, string detail) =>
        new(path, "FieldValueTypeInvalid", $"Invalid value: {FieldErrors.Format(value)}: {detail}");

    private static StoreErrorCause TooLong(string path, long max) =>
        new(path, "FieldValueTooLong", $"Too long: may not be more than {max} {(max == 1 ? "byte" : "bytes")}");

    private static StoreErrorCause TooMany(string path, int actual, long max) =>
        new(path, "FieldValueTooMany", $"Too many: {actual}: must have at most {max} {(max == 1 ? "item" : "items")}");
}
