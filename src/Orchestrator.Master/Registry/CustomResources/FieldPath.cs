namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>Field paths as apimachinery's field.Path prints them: <c>spec.items[0].name</c>, map keys in brackets.</summary>
internal static class FieldPath
{
    public static string Child(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    public static string Index(string path, int index) => $"{path}[{index}]";

    public static string Key(string path, string key) => $"{path}[{key}]";
}
