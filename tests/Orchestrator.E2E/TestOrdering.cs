using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Orchestrator.E2E;

/// <summary>Runs the walk-through's steps in the order a person types them (restart last).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class StepAttribute(int order) : Attribute
{
    public int Order { get; } = order;
}

public sealed class StepOrderer : ITestCaseOrderer
{
    public const string TypeName = "Orchestrator.E2E.StepOrderer";
    public const string AssemblyName = "Orchestrator.E2E";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.GetCustomAttributes(typeof(StepAttribute).AssemblyQualifiedName!)
            .FirstOrDefault()?.GetConstructorArguments().Cast<int>().First() ?? int.MaxValue);
}
