using k8s.Models;

namespace Orchestrator.Master.Controllers.Autoscaling;

/// <summary>setCondition: one condition per type; the transition time moves only when the status does.</summary>
internal static class HpaConditions
{
    public static void Set(V2HorizontalPodAutoscalerStatus status, string type, string value, string reason, string message, DateTime now)
    {
        var conditions = status.Conditions ??= new List<V2HorizontalPodAutoscalerCondition>();
        var existing = conditions.FirstOrDefault(c => c.Type == type);
        if (existing is null)
        {
            conditions.Add(new V2HorizontalPodAutoscalerCondition { Type = type, Status = value, Reason = reason, Message = message, LastTransitionTime = now });
            return;
        }
        if (existing.Status != value) existing.LastTransitionTime = now;
        existing.Status = value;
        existing.Reason = reason;
        existing.Message = message;
    }
}
