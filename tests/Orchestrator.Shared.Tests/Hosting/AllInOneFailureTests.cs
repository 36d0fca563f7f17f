using Orchestrator.Shared.Hosting;
using Xunit;

namespace Orchestrator.Shared.Tests.Hosting;

public sealed class AllInOneFailureTests
{
    [Fact]
    public void A_half_that_failed_is_named_with_its_error_and_the_other_half_said_stopped()
    {
        Assert.Equal("orchestrator-all-in-one: the node failed: Address already in use; the master stopped with it",
            AllInOneFailure.Ended("node", "Address already in use."));
        Assert.Equal("orchestrator-all-in-one: the master failed: journal record 7 cannot be applied; the node stopped with it",
            AllInOneFailure.Ended("master", "journal record 7 cannot be applied"));
    }

    [Fact]
    public void A_half_that_ended_without_an_error_is_said_to_have_stopped_by_itself()
    {
        Assert.Equal("orchestrator-all-in-one: the node stopped by itself (nothing asked it to; its log above says why); the master stopped with it",
            AllInOneFailure.Ended("node", null));
    }

    [Fact]
    public void The_half_whose_code_threw_is_the_innermost_frame_of_the_master_or_the_node()
    {
        const string report = """
            System.InvalidOperationException: outer
             ---> System.IO.IOException: inner
               at System.IO.FileStream.Read()
               at Orchestrator.Shared.Hosting.ConfigFile.Load(String path)
               at Orchestrator.Node.Agent.NodeAgent.<>c.<Start>b__1_0()
               at Orchestrator.Master.Store.ObjectStore.Apply()
               --- End of inner exception stack trace ---
               at Orchestrator.Master.Api.Handler.Run()
            """;
        Assert.Equal("node", AllInOneFailure.PartOf(report));
        Assert.Equal("master", AllInOneFailure.PartOf("System.Exception: x\n   at Akka.Actor.ActorCell.Invoke()\n   at Orchestrator.Master.Nodes.NodeGateway.Receive()"));
        Assert.Null(AllInOneFailure.PartOf("System.Exception: x\n   at System.Threading.TimerQueue.FireNextTimers()\n   at Orchestrator.Shared.Protocol.X.Y()"));
    }

    [Fact]
    public void An_exception_nothing_caught_is_one_line_with_its_type_message_and_half()
    {
        var line = AllInOneFailure.Unhandled(new InvalidOperationException("boom\n  on two lines"));
        Assert.DoesNotContain('\n', line);
        // thrown from neither half's code (this test's frames): both named
        Assert.Equal("orchestrator-all-in-one: the master or the node failed: an exception nothing caught " +
                     "(System.InvalidOperationException: boom on two lines); the process ends, the master and the node with it", line);
    }
}
