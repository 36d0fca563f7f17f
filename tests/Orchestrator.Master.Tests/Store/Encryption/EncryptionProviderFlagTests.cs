using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Master.Tests.Store.Faults;
using Orchestrator.Master.Tests.Store.Support;
using Xunit;

namespace Orchestrator.Master.Tests.Store.Encryption;

/// <summary>
/// Secrets at rest through a real orchestrator-master started with <c>--encryption-provider-config</c>, as
/// kube-apiserver is: what the API was given is not in store.db or its WAL, and every file of the data directory is
/// private (issue 12, "Secrets on disk").
/// </summary>
public sealed class EncryptionProviderFlagTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("encryption-flag-").FullName;
    private readonly List<MasterProcess> _masters = [];

    public void Dispose()
    {
        foreach (var master in _masters) master.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private string DataDirectory => Path.Combine(_root, "data");

    private MasterProcess Start(string config)
    {
        var master = MasterProcess.Start(DataDirectory, "--encryption-provider-config", config);
        _masters.Add(master);
        return master;
    }

    private static string PasswordOf(JsonNode secret) =>
        Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]!["password"]!.ToString()));

    [Fact]
    public async Task A_secret_written_through_the_api_is_not_in_the_database_files_and_reads_back_after_a_restart()
    {
        var config = Path.Combine(_root, "encryption.yaml");
        var key = Convert.ToBase64String(Encoding.ASCII.GetBytes(new string('k', 32)));
        await File.WriteAllTextAsync(config, $$"""
            apiVersion: apiserver.config.k8s.io/v1
            kind: EncryptionConfiguration
            resources:
              - resources: [secrets]
                providers:
                  - aesgcm:
                      keys:
                        - name: key1
                          secret: {{key}}
                  - identity: {}
            """);
        var password = "plaintext-" + Guid.NewGuid().ToString("N");
        var visible = "visible-" + Guid.NewGuid().ToString("N");

        var master = Start(config);
        await master.WaitReadyAsync();
        using (var client = master.Client())
        {
            using var secret = await client.PostAsync("/api/v1/namespaces/default/secrets", new StringContent(
                $$$"""{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"stringData":{"password":"{{{password}}}"}}""",
                Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, secret.StatusCode);
            using var configMap = await client.PostAsync("/api/v1/namespaces/default/configmaps", new StringContent(
                $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"plain"},"data":{"k":"{{{visible}}}"}}""",
                Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, configMap.StatusCode);
            Assert.Equal(password, PasswordOf(JsonNode.Parse(await client.GetStringAsync("/api/v1/namespaces/default/secrets/db"))!));
        }

        var bytes = StoreHost.FileBytes(Path.Combine(DataDirectory, "store.db"));
        Assert.True(StoreHost.Contains(bytes, visible), "ConfigMaps are not encrypted: the bytes read are the ones written");
        Assert.True(StoreHost.Contains(bytes, "k8s:enc:aesgcm:v1:key1:"), "no value encrypted with key1 in the file");
        Assert.False(StoreHost.Contains(bytes, password), "the secret's plaintext is in the database file");
        Assert.False(StoreHost.Contains(bytes, Convert.ToBase64String(Encoding.UTF8.GetBytes(password))), "the secret's base64 is in the database file");

        // The data directory and everything in it (journal, WAL, keys, token, certificates) are the owner's alone.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(DataDirectory));
        var open = Directory.EnumerateFileSystemEntries(DataDirectory, "*", SearchOption.AllDirectories)
            .Where(path => (File.GetUnixFileMode(path) & (UnixFileMode)0b000_111_111) != 0)
            .Select(path => $"{Path.GetRelativePath(DataDirectory, path)} {Convert.ToString((int)File.GetUnixFileMode(path), 8)}")
            .ToList();
        Assert.True(open.Count == 0, "readable by others: " + string.Join(", ", open));

        master.Kill9();
        var again = Start(config);
        await again.WaitReadyAsync();
        using var after = again.Client();
        Assert.Equal(password, PasswordOf(JsonNode.Parse(await after.GetStringAsync("/api/v1/namespaces/default/secrets/db"))!));
    }
}
