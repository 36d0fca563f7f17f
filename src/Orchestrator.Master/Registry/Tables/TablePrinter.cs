using k8s;
using k8s.Models;

namespace Orchestrator.Master.Registry.Tables;

/// <summary>Turns objects of one kind into table cells, with the columns a real cluster prints for that kind.
/// Cells are always generated for every column (wide ones too); kubectl hides priority-1 columns unless -o wide.
/// Cells read <c>now</c> only through <see cref="HumanDuration.Since"/> and <see cref="HumanDuration.Elapsed"/>, which note
/// until when their text holds: a kept list's Table rows are reused until then (EncodedBodies).</summary>
internal interface ITablePrinter
{
    IReadOnlyList<TableColumnDefinition> Columns { get; }
    IReadOnlyList<object> Cells(IKubernetesObject<V1ObjectMeta> obj, DateTime now);
}

internal abstract class TablePrinter<T> : ITablePrinter where T : IKubernetesObject<V1ObjectMeta>
{
    public abstract IReadOnlyList<TableColumnDefinition> Columns { get; }

    public IReadOnlyList<object> Cells(IKubernetesObject<V1ObjectMeta> obj, DateTime now) => Cells((T)obj, now);

    protected abstract IReadOnlyList<object> Cells(T obj, DateTime now);

    protected const string None = "<none>";

    protected static string Age(IKubernetesObject<V1ObjectMeta> obj, DateTime now) =>
        HumanDuration.Since(obj.Metadata?.CreationTimestamp, now);

    protected static string OrNone(string? value) => string.IsNullOrEmpty(value) ? None : value;

    /// <summary>A label selector the way metav1.FormatLabelSelector prints it.</summary>
    protected static string FormatSelector(V1LabelSelector? selector) => OrNone(SelectorText.Format(selector));

    /// <summary>A map selector or label set the way labels.FormatLabels prints it.</summary>
    protected static string FormatLabels(IDictionary<string, string>? labels) => OrNone(SelectorText.FormatLabels(labels));

    protected static string ContainerNames(V1PodTemplateSpec? template) =>
        string.Join(",", template?.Spec?.Containers?.Select(c => c.Name) ?? []);

    protected static string ContainerImages(V1PodTemplateSpec? template) =>
        string.Join(",", template?.Spec?.Containers?.Select(c => c.Image) ?? []);
}

/// <summary>Kinds without a dedicated printer: NAME and AGE.</summary>
internal sealed class DefaultTablePrinter : ITablePrinter
{
    public static DefaultTablePrinter Instance { get; } = new();

    public IReadOnlyList<TableColumnDefinition> Columns { get; } =
        [TableColumnDefinition.NameColumn, TableColumnDefinition.AgeColumn];

    public IReadOnlyList<object> Cells(IKubernetesObject<V1ObjectMeta> obj, DateTime now) =>
        [obj.Metadata?.Name ?? "", HumanDuration.Since(obj.Metadata?.CreationTimestamp, now)];
}

/// <summary>Built-in kinds that kube-apiserver prints with its default table convertor (Roles, ClusterRoles, …):
/// NAME and CREATED AT, the creation time in RFC 3339.</summary>
internal sealed class CreatedAtTablePrinter : ITablePrinter
{
    public static CreatedAtTablePrinter Instance { get; } = new();

    public IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        new("Created At", "date", "", TableColumnDefinition.AgeColumn.Description, 0),
    ];

    public IReadOnlyList<object> Cells(IKubernetesObject<V1ObjectMeta> obj, DateTime now) =>
        [obj.Metadata?.Name ?? "", obj.Metadata?.CreationTimestamp?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") ?? ""];
}
