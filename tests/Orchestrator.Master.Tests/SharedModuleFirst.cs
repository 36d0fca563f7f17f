using System.Runtime.CompilerServices;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Tests;

/// <summary>Orchestrator.Shared's module initializer sets KubernetesJson's options, which cannot change once a
/// serialization has used them: a test that calls KubernetesJson before any Shared type is touched (SchemaTests does)
/// makes that initializer throw for every later test, depending on which classes xUnit happens to start first. Running
/// the Shared module's initializer as this assembly loads removes that dependence on the order.</summary>
internal static class SharedModuleFirst
{
#pragma warning disable CA2255 // a test assembly, not a library: the order of module initializers is the point here
    [ModuleInitializer]
    internal static void Run() => RuntimeHelpers.RunModuleConstructor(typeof(KubeObjects).Module.ModuleHandle);
#pragma warning restore CA2255
}
