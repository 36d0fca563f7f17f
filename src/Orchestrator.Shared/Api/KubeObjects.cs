using System.Reflection;
using System.Text.Json;
using k8s;
using k8s.Models;

namespace Orchestrator.Shared.Api;

/// <summary>
/// JSON (de)serialization of API objects whose CLR type is known only at run time, always through
/// KubernetesJson so that IntOrString, quantities and dates use Kubernetes' wire format.
/// </summary>
public static class KubeObjects
{
    private static readonly MethodInfo DeserializeString = typeof(KubernetesJson)
        .GetMethods(BindingFlags.Public | BindingFlags.Static)
        .Single(m => m.Name == nameof(KubernetesJson.Deserialize) && m.GetParameters()[0].ParameterType == typeof(string));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, MethodInfo> Deserializers = new();

    /// <summary>KubernetesJson's own options (its converters and ours, registered by this assembly's module
    /// initializers): the same instance, so that UTF-8 is written and read exactly as its string methods do, without a
    /// UTF-16 copy of the text.</summary>
    private static readonly JsonSerializerOptions Options = KubernetesJsonOptions();

    private static JsonSerializerOptions KubernetesJsonOptions()
    {
        JsonSerializerOptions? options = null;
        KubernetesJson.AddJsonOptions(o => options = o);
        return options ?? throw new InvalidOperationException("KubernetesJson did not hand over its options");
    }

    public static string Serialize(object value) => KubernetesJson.Serialize(value);

    /// <summary>The UTF-8 bytes of <see cref="Serialize"/>'s text, written directly.</summary>
    public static byte[] SerializeToUtf8Bytes(object value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    /// <summary><see cref="Deserialize(string, Type)"/> of UTF-8 text.</summary>
    public static object Deserialize(ReadOnlySpan<byte> utf8Json, Type type) =>
        JsonSerializer.Deserialize(utf8Json, type, Options) ?? throw new JsonException("the body is the JSON literal null");

    public static object Deserialize(string json, Type type)
    {
        var method = Deserializers.GetOrAdd(type, t => DeserializeString.MakeGenericMethod(t));
        try
        {
            return method.Invoke(null, [json, null])
                   ?? throw new JsonException("the body is the JSON literal null");
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }

    /// <summary>A deep copy: objects handed out by the store are shared and must not be modified in place.</summary>
    /// <remarks>Through UTF-8, as the text would be written and read anyway: half the bytes of a UTF-16 copy.</remarks>
    public static T Clone<T>(T value) where T : class =>
        (T)Deserialize(SerializeToUtf8Bytes(value), value.GetType());

    public static IKubernetesObject<V1ObjectMeta> CloneObject(IKubernetesObject<V1ObjectMeta> value) =>
        (IKubernetesObject<V1ObjectMeta>)Deserialize(SerializeToUtf8Bytes(value), value.GetType());

    /// <summary>True when both are null or both serialize to the same JSON (how specs and fields are compared).</summary>
    public static bool SameJson(object? a, object? b) =>
        (a is null && b is null) || (a is not null && b is not null && SerializeToUtf8Bytes(a).AsSpan().SequenceEqual(SerializeToUtf8Bytes(b)));
}
