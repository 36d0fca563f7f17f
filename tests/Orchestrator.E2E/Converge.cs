namespace Orchestrator.E2E;

public static class Converge
{
    /// <summary>
    /// Retries an assertion every 500 ms until it holds or <paramref name="within"/> passes (90 s by default): a
    /// cluster converges asynchronously. The final failure carries the assertion's message and the logs' tails.
    /// </summary>
    public static async Task Eventually(Func<Task> assertion, string what, TimeSpan? within, Func<string> logs)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            try
            {
                await assertion();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"timed out waiting for {what}: {e.Message}\n{logs()}");
            }
        }
    }
}
