using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Agent;

/// <summary>
/// The node's own identity towards the master (<see cref="NodeCredentials"/>), as the kubelet keeps its client
/// certificate in /var/lib/kubelet/pki: a key made at first start and the certificate the master issued for it, both in
/// <c>{root-dir}/pki</c> (<c>node-client-NAME.key</c>, mode 0600, and <c>.crt</c>; named per node, as two nodes of one
/// machine may share a root) so a restarted node is still the node it was. Without a certificate the
/// registration carries only the signing request: the master bootstraps one if nobody holds the name yet.
/// </summary>
internal sealed class NodeClientIdentity : IDisposable
{
    public static string KeyFile(string nodeName) => $"node-client-{nodeName}.key";
    public static string CertificateFile(string nodeName) => $"node-client-{nodeName}.crt";
    private readonly string _nodeName;
    private readonly string? _directory;
    private readonly ECDsa _key;
    private readonly string _signingRequest;
    private readonly object _gate = new();
    private string? _certificate;

    /// <param name="directory">Where the key and certificate are kept (null: in memory only, as in tests).</param>
    public NodeClientIdentity(string nodeName, string? directory)
    {
        _nodeName = nodeName;
        _directory = directory;
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (directory is not null)
        {
            var keyPath = Path.Combine(directory, KeyFile(nodeName));
            if (File.Exists(keyPath)) _key.ImportFromPem(File.ReadAllText(keyPath));
            else
            {
                Directory.CreateDirectory(directory);
                WritePrivate(keyPath, _key.ExportPkcs8PrivateKeyPem());
            }
            var certificatePath = Path.Combine(directory, CertificateFile(nodeName));
            if (File.Exists(certificatePath) && Usable(File.ReadAllText(certificatePath)) is null) _certificate = File.ReadAllText(certificatePath);
        }
        _signingRequest = NodeCredentials.SigningRequest(_key, nodeName);
    }

    /// <summary>Whether the node holds a certificate (else its registration asks for one).</summary>
    public bool HasCertificate { get { lock (_gate) return _certificate is not null; } }

    /// <summary>The credential for a registration by the agent at <paramref name="agent"/> (its actor address).</summary>
    public NodeCredential Credential(string agent, DateTime now)
    {
        lock (_gate) return NodeCredentials.Sign(_key, _nodeName, agent, now, _certificate, _signingRequest);
    }

    /// <summary>Takes the certificate the master issued (and keeps it on disk). Null when accepted, otherwise why not.</summary>
    public string? Accept(string certificatePem)
    {
        if (Usable(certificatePem) is { } problem) return problem;
        lock (_gate)
        {
            _certificate = certificatePem;
            if (_directory is not null) WritePrivate(Path.Combine(_directory, CertificateFile(_nodeName)), certificatePem);
        }
        return null;
    }

    private string? Usable(string certificatePem)
    {
        try
        {
            using var certificate = X509Certificate2.CreateFromPem(certificatePem);
            return NodeCredentials.IsFor(certificate, _key) ? null : "the certificate is not for this node's key";
        }
        catch (CryptographicException e)
        {
            return e.Message.Trim();
        }
    }

    /// <summary>Written whole through a temporary file, readable by the owner only.</summary>
    private static void WritePrivate(string path, string content)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, new FileStreamOptions
               {
                   Mode = FileMode.Create, Access = FileAccess.Write,
                   UnixCreateMode = OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite,
               }))
        using (var writer = new StreamWriter(stream))
            writer.Write(content);
        File.Move(temporary, path, overwrite: true);
    }

    public void Dispose() => _key.Dispose();
}
