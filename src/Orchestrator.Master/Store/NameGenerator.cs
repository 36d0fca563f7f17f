namespace Orchestrator.Master.Store;

/// <summary>Names from generateName, as Kubernetes' name generator makes them.</summary>
internal static class NameGenerator
{
    private const string Alphabet = "bcdfghjklmnpqrstvwxz2456789";

    /// <summary>generateName + 5 random characters, from the alphabet Kubernetes uses (no vowels, no 0/1/3).</summary>
    public static string Generate(string prefix)
    {
        // Kubernetes truncates the prefix so that the result stays within 63 characters.
        if (prefix.Length > 58) prefix = prefix[..58];
        return prefix + new string(Enumerable.Range(0, 5).Select(_ => Alphabet[Random.Shared.Next(Alphabet.Length)]).ToArray());
    }
}
