using System.Diagnostics;
using Orchestrator.Master.Api.Security;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Security;

/// <summary>Key and token files are private from the moment they exist (issue 12: they were written, then chmod-ed).</summary>
public sealed class PrivateFileTests : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly string _directory = Directory.CreateTempSubdirectory("private-file-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>The file's inode number (stat), to tell a file replaced from a file rewritten in place.</summary>
    private static string Inode(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true })!;
        var inode = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return inode;
    }

    [Fact]
    public void A_new_file_is_created_owner_readable_only_and_leaves_nothing_beside_it()
    {
        var path = Path.Combine(_directory, "token");
        ServingCertificates.WritePrivate(path, "secret\n"u8.ToArray());

        Assert.Equal(Private, File.GetUnixFileMode(path));
        Assert.Equal("secret\n", File.ReadAllText(path));
        Assert.Equal(["token"], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public void An_existing_wider_file_is_replaced_by_a_private_one_not_written_into()
    {
        var path = Path.Combine(_directory, "key.pem");
        File.WriteAllText(path, "old");
        File.SetUnixFileMode(path, Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead); // 0644
        var before = Inode(path);

        ServingCertificates.WritePrivate(path, "new key"u8.ToArray());

        Assert.Equal(Private, File.GetUnixFileMode(path));
        Assert.Equal("new key", File.ReadAllText(path));
        Assert.NotEqual(before, Inode(path)); // the secret never sat in the 0644 inode
    }
}
