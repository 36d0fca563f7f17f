using System.Text.Json;
using k8s;

namespace Orchestrator.Master.Api.Responses;

/// <summary>A Table row's cells as <c>KubernetesJson.Serialize</c> writes the printer's list of values: strings, numbers,
/// booleans and nulls straight through the writer (its default encoder escapes as KubernetesJson's options do), any
/// other value through KubernetesJson itself.</summary>
internal static class TableCells
{
    public static void Write(Utf8JsonWriter writer, IReadOnlyList<object?> cells)
    {
        writer.WriteStartArray();
        for (var i = 0; i < cells.Count; i++)
        {
            switch (cells[i])
            {
                case null: writer.WriteNullValue(); break;
                case string text: writer.WriteStringValue(text); break;
                case int number: writer.WriteNumberValue(number); break;
                case long number: writer.WriteNumberValue(number); break;
                case double number when double.IsFinite(number): writer.WriteNumberValue(number); break;
                case bool flag: writer.WriteBooleanValue(flag); break;
                case var other: writer.WriteRawValue(KubernetesJson.Serialize(other), skipInputValidation: true); break;
            }
        }
        writer.WriteEndArray();
    }
}
