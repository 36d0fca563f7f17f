using System.Text.Json.Nodes;
using Orchestrator.Master.Admission.PodSecurity;
using Orchestrator.Master.Api.Http;

namespace Orchestrator.Master;

/// <summary>
/// kube-apiserver's --admission-control-config-file: an AdmissionConfiguration (apiserver.config.k8s.io/v1) whose
/// plugins carry their configuration inline (<c>configuration</c>) or in a file of their own (<c>path</c>, relative
/// to this one). The PodSecurity plugin's PodSecurityConfiguration (pod-security.admission.config.k8s.io/v1) is read
/// and validated as kube's pod-security-admission does; a configuration for any other plugin is refused, since none
/// of ours reads one. Every problem is a <see cref="FormatException"/> whose message is one line.
/// </summary>
internal static class AdmissionConfigurationFile
{
    public const string Flag = "admission-control-config-file";
    private const string PodSecurityPlugin = "PodSecurity";

    /// <summary>The PodSecurity options the file gives (the defaults of a missing file or plugin entry).</summary>
    public static PodSecurityOptions Load(string? path)
    {
        if (string.IsNullOrEmpty(path)) return new PodSecurityOptions();
        try
        {
            var root = ReadYaml(path);
            var apiVersion = root["apiVersion"]?.ToString();
            if (apiVersion is not ("apiserver.config.k8s.io/v1" or "apiserver.k8s.io/v1alpha1") || root["kind"]?.ToString() != "AdmissionConfiguration")
                throw new FormatException(
                    $"expected apiVersion apiserver.config.k8s.io/v1 and kind AdmissionConfiguration, found {apiVersion ?? "no apiVersion"} {root["kind"]?.ToString() ?? "and no kind"}");
            var options = new PodSecurityOptions();
            if (root["plugins"] is not JsonArray plugins) return options;
            for (var i = 0; i < plugins.Count; i++)
            {
                if (plugins[i] is not JsonObject plugin) throw new FormatException($"plugins[{i}]: must be an object");
                var name = plugin["name"]?.ToString() ?? "";
                if (name != PodSecurityPlugin)
                    throw new FormatException($"plugins[{i}]: the admission plugin \"{name}\" takes no configuration here (only {PodSecurityPlugin} does)");
                JsonObject configuration;
                if (plugin["path"]?.ToString() is { Length: > 0 } pluginPath)
                    configuration = ReadYaml(Path.IsPathRooted(pluginPath) ? pluginPath : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, pluginPath));
                else
                    configuration = plugin["configuration"] as JsonObject ?? throw new FormatException($"plugins[{i}]: {PodSecurityPlugin} needs configuration or path");
                options = PodSecurity(configuration);
            }
            return options;
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException or ApiException or InvalidOperationException)
        {
            throw new FormatException($"--{Flag} {path}: {e.Message}");
        }
    }

    private static JsonObject ReadYaml(string path) =>
        YamlBody.Parse(File.ReadAllBytes(path)).Root as JsonObject ?? throw new FormatException($"{path}: not an object");

    /// <summary>A PodSecurityConfiguration: levels default to privileged and versions to latest; kube's validation.</summary>
    internal static PodSecurityOptions PodSecurity(JsonObject configuration)
    {
        var apiVersion = configuration["apiVersion"]?.ToString();
        if (apiVersion is not ("pod-security.admission.config.k8s.io/v1" or "pod-security.admission.config.k8s.io/v1beta1")
            || configuration["kind"]?.ToString() != "PodSecurityConfiguration")
            throw new FormatException(
                $"{PodSecurityPlugin}: expected apiVersion pod-security.admission.config.k8s.io/v1 and kind PodSecurityConfiguration, found {apiVersion ?? "no apiVersion"} {configuration["kind"]?.ToString() ?? "and no kind"}");
        var defaults = configuration["defaults"] as JsonObject ?? [];
        var exemptions = configuration["exemptions"] as JsonObject ?? [];
        var errors = new List<string>();
        string Text(string key) => defaults[key]?.ToString() is { Length: > 0 } v ? v : "";
        var labels = new Dictionary<string, string>();
        foreach (var mode in (string[])["enforce", "warn", "audit"])
        {
            var level = Text(mode) is { Length: > 0 } l ? l : "privileged";
            var version = Text(mode + "-version") is { Length: > 0 } v ? v : "latest";
            if (level is not ("privileged" or "baseline" or "restricted"))
                errors.Add($"defaults.{mode}: Invalid value: \"{level}\": must be one of privileged, baseline, restricted");
            if (!IsVersion(version))
                errors.Add($"defaults.{mode}-version: Invalid value: \"{version}\": must be \"latest\" or \"v1.x\"");
            labels[PodSecurityLabels.Prefix + mode] = level;
            labels[PodSecurityLabels.Prefix + mode + "-version"] = version;
        }
        var usernames = ExemptNames(exemptions, "usernames", errors, name => name.Length == 0 ? "Required value" : null);
        var runtimeClasses = ExemptNames(exemptions, "runtimeClasses", errors, name => Problem(name, Registry.Validation.Names.Rule.Dns1123Subdomain));
        var namespaces = ExemptNames(exemptions, "namespaces", errors, name => Problem(name, Registry.Validation.Names.Rule.Dns1123Label));
        if (errors.Count > 0)
            throw new FormatException($"{PodSecurityPlugin}: invalid PodSecurityConfiguration: {(errors.Count == 1 ? errors[0] : $"[{string.Join(", ", errors)}]")}");
        // every label set, so nothing falls back to another default
        var (policy, _) = PodSecurityLabels.PolicyOf(labels, NamespacePolicy.Privileged);
        return new PodSecurityOptions
        {
            Defaults = policy,
            ExemptUsernames = usernames,
            ExemptRuntimeClasses = runtimeClasses,
            ExemptNamespaces = namespaces,
        };
    }

    private static string? Problem(string name, Registry.Validation.Names.Rule rule) =>
        Registry.Validation.Names.Check(name, rule).ToList() is { Count: > 0 } problems ? $"Invalid value: \"{name}\": {string.Join(", ", problems)}" : null;

    /// <summary>A list of exempt names: each checked, duplicates refused (kube's field.Duplicate).</summary>
    private static HashSet<string> ExemptNames(JsonObject exemptions, string key, List<string> errors, Func<string, string?> problem)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (exemptions[key] is null) return names;
        if (exemptions[key] is not JsonArray array) throw new FormatException($"exemptions.{key}: must be a list");
        for (var i = 0; i < array.Count; i++)
        {
            var name = array[i]?.ToString() ?? "";
            if (problem(name) is { } message) errors.Add($"exemptions.{key}[{i}]: {message}");
            else if (!names.Add(name)) errors.Add($"exemptions.{key}[{i}]: Duplicate value: \"{name}\"");
        }
        return names;
    }

    /// <summary>"latest" or v1.MINOR (no leading zero), as kube's ParseVersion.</summary>
    private static bool IsVersion(string value)
    {
        if (value == "latest") return true;
        var digits = value.StartsWith("v1.", StringComparison.Ordinal) ? value[3..] : "";
        return digits.Length > 0 && digits.All(char.IsAsciiDigit) && (digits.Length == 1 || digits[0] != '0');
    }
}
