using System.Configuration;
using Orchestrator.Shared.Hosting;
using Xunit;

namespace Orchestrator.Shared.Tests.Hosting;

public sealed class AkkaAppConfigWarmupTests
{
    [Fact]
    public void Reads_the_akka_section_a_process_without_an_application_configuration_lacks()
    {
        Assert.True(AkkaAppConfigWarmup.Read());
        Assert.Null(ConfigurationManager.GetSection(AkkaAppConfigWarmup.Section)); // Akka then takes its defaults, as before
    }
}
