using k8s.Models;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.FlowControl;

/// <summary>What a request was classified as: its FlowSchema, priority level and flow (the schema's name and the
/// distinguisher, hashed for shuffle sharding), and the request itself for the debug dumps.</summary>
internal sealed record Classification(V1FlowSchema Schema, PriorityLevelLimits Level, ulong FlowHash, string Distinguisher = "",
    AuthorizationAttributes? Request = null);

/// <summary>
/// One priority level's part of the server's concurrency, as kube's APF computes it from the levels'
/// nominalConcurrencyShares (NCS): NominalCL = ceil(serverCL × NCS / ΣNCS), LendableCL = round(NominalCL ×
/// lendablePercent / 100), MinCL = NominalCL − LendableCL, and MaxCL = NominalCL + round(NominalCL ×
/// borrowingLimitPercent / 100), or the whole server when no borrowing limit is set. Queuing null: Reject.
/// </summary>
internal sealed record PriorityLevelLimits(string Name, string Uid, bool Exempt, int NominalCL, int LendableCL, int MaxCL, V1QueuingConfiguration? Queuing)
{
    public int MinCL => NominalCL - LendableCL;
}

/// <summary>
/// An immutable snapshot of the flow control objects (swapped whole on every change): the FlowSchemas in matching
/// order (matchingPrecedence, then name), without those whose priority level does not exist (kube skips dangling
/// schemas), and the priority levels' limits. The mandatory objects stand in where the store has none, as kube's
/// config controller supplies them.
/// </summary>
internal sealed class FlowControlConfiguration
{
    public IReadOnlyList<(V1FlowSchema Schema, PriorityLevelLimits Level)> Schemas { get; }
    public IReadOnlyDictionary<string, PriorityLevelLimits> Levels { get; }
    private readonly (V1FlowSchema Schema, PriorityLevelLimits Level) _catchAll;

    public FlowControlConfiguration(IEnumerable<V1FlowSchema> schemas, IEnumerable<V1PriorityLevelConfiguration> levels, int serverConcurrencyLimit)
    {
        var allLevels = levels.Where(l => l.Metadata.DeletionTimestamp is null).ToDictionary(l => l.Metadata.Name, StringComparer.Ordinal);
        foreach (var mandatory in FlowControlDefaults.MandatoryPriorityLevels()) allLevels.TryAdd(mandatory.Metadata.Name, mandatory);
        var shares = allLevels.Values.Sum(l => (double)Shares(l));
        Levels = allLevels.Values.Select(l => Limits(l, serverConcurrencyLimit, shares)).ToDictionary(l => l.Name, StringComparer.Ordinal);

        var allSchemas = schemas.Where(s => s.Metadata.DeletionTimestamp is null).ToDictionary(s => s.Metadata.Name, StringComparer.Ordinal);
        foreach (var mandatory in FlowControlDefaults.MandatoryFlowSchemas()) allSchemas.TryAdd(mandatory.Metadata.Name, mandatory);
        Schemas = allSchemas.Values
            .Where(s => Levels.ContainsKey(s.Spec?.PriorityLevelConfiguration?.Name ?? ""))
            .OrderBy(s => s.Spec.MatchingPrecedence ?? 0).ThenBy(s => s.Metadata.Name, StringComparer.Ordinal)
            .Select(s => (s, Levels[s.Spec.PriorityLevelConfiguration.Name]))
            .ToList();
        _catchAll = Schemas.FirstOrDefault(s => s.Schema.Metadata.Name == FlowControlDefaults.CatchAll);
        if (_catchAll.Schema is null)
        {
            var schema = FlowControlDefaults.MandatoryFlowSchemas().First(s => s.Metadata.Name == FlowControlDefaults.CatchAll);
            _catchAll = (schema, Levels[FlowControlDefaults.CatchAll]);
        }
    }

    /// <summary>The first matching schema; the catch-all one when none matches (a user in neither
    /// system:authenticated nor system:unauthenticated), as kube falls back on it.</summary>
    public Classification Classify(AuthorizationAttributes request)
    {
        var (schema, level) = _catchAll;
        foreach (var candidate in Schemas)
            if (FlowSchemaMatching.Matches(candidate.Schema.Spec, request))
            {
                (schema, level) = candidate;
                break;
            }
        var distinguisher = schema.Spec.DistinguisherMethod?.Type switch
        {
            "ByUser" => request.User.Name,
            "ByNamespace" => request.Namespace,
            _ => "",
        };
        return new Classification(schema, level, level.Exempt ? 0 : FlowHash(schema.Metadata.Name, distinguisher), distinguisher, request);
    }

    private static int Shares(V1PriorityLevelConfiguration level) =>
        level.Spec?.Type == "Exempt" ? level.Spec.Exempt?.NominalConcurrencyShares ?? 0 : level.Spec?.Limited?.NominalConcurrencyShares ?? 0;

    private static PriorityLevelLimits Limits(V1PriorityLevelConfiguration level, int serverCL, double shareSum)
    {
        var nominal = shareSum <= 0 ? 0 : (int)Math.Ceiling(serverCL * Shares(level) / shareSum);
        var exempt = level.Spec?.Type == "Exempt";
        var lendablePercent = exempt ? level.Spec!.Exempt?.LendablePercent ?? 0 : level.Spec?.Limited?.LendablePercent ?? 0;
        var lendable = (int)Math.Round(nominal * lendablePercent / 100.0, MidpointRounding.AwayFromZero);
        var borrowing = exempt ? null : level.Spec?.Limited?.BorrowingLimitPercent;
        var max = borrowing is { } percent ? nominal + (int)Math.Round(nominal * percent / 100.0, MidpointRounding.AwayFromZero) : serverCL;
        var queuing = exempt || level.Spec?.Limited?.LimitResponse?.Type != "Queue" ? null : level.Spec.Limited.LimitResponse.Queuing;
        return new PriorityLevelLimits(level.Metadata.Name, level.Metadata.Uid ?? "", exempt, nominal, lendable, max, queuing);
    }

    /// <summary>FNV-1a (64 bits) of the schema name and distinguisher, separated so that ("ab","c") and ("a","bc")
    /// differ: the flow's identity for shuffle sharding.</summary>
    internal static ulong FlowHash(string schema, string distinguisher)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in schema) hash = (hash ^ c) * 1099511628211UL;
        hash = (hash ^ 0xFFFF) * 1099511628211UL;
        foreach (var c in distinguisher) hash = (hash ^ c) * 1099511628211UL;
        return hash;
    }
}
