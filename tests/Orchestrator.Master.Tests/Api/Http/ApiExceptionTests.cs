using Orchestrator.Master.Api.Http;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Http;

public sealed class ApiExceptionTests
{
    [Theory]
    [InlineData("Required value", "FieldValueRequired")]
    [InlineData("Required value: name or generateName is required", "FieldValueRequired")]
    [InlineData("Unsupported value: \"Pod\": supported values: \"Node\", \"<empty>\"", "FieldValueNotSupported")]
    [InlineData("Invalid value: -1: must be greater than or equal to 0", "FieldValueInvalid")]
    public void An_invalid_fields_cause_has_the_reason_of_its_errors_type(string message, string reason) =>
        Assert.Equal(reason, ApiException.CauseReason(message));
}
