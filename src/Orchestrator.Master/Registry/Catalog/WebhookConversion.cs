using k8s.Models;

namespace Orchestrator.Master.Registry.Catalog;

/// <summary>
/// A custom resource whose CustomResourceDefinition converts through a webhook (<c>spec.conversion.strategy: Webhook</c>):
/// every served version's description carries it, and the API (never the store) sends the objects that are not in the
/// version it reads or writes to the webhook, as apiextensions-apiserver's webhookConverter does. <see cref="StorageVersion"/>
/// is the group/version objects are written in; objects written before the storage version changed keep theirs.
/// </summary>
internal sealed record WebhookConversion(
    string CrdName, string Group, string Kind, string StorageVersion,
    Apiextensionsv1WebhookClientConfig ClientConfig, IReadOnlyList<string> ReviewVersions);
