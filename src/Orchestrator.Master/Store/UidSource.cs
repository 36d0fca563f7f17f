using System.Security.Cryptography;

namespace Orchestrator.Master.Store;

/// <summary>
/// New uids: random (version 4, RFC 4122 variant) UUIDs from cryptographically secure bytes, as <see cref="Guid.NewGuid"/>
/// makes them and Kubernetes' uuid.NewUUID, but the bytes of 256 at a time: Guid.NewGuid asks the kernel for every one,
/// a system call per create on the store's serial path. One owner at a time (the store's planner; a thread's own for the
/// requests' audit ids).
/// </summary>
internal sealed class UidSource
{
    private readonly byte[] _random = new byte[4096];
    private int _used = 4096;

    public string Next()
    {
        if (_used == _random.Length)
        {
            RandomNumberGenerator.Fill(_random);
            _used = 0;
        }
        Span<byte> bytes = stackalloc byte[16];
        var taken = _random.AsSpan(_used, 16);
        taken.CopyTo(bytes);
        taken.Clear();
        _used += 16;
        // Guid's byte order: byte 7 is the high byte of the third group (the version), byte 8 the first of the fourth (the variant).
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes).ToString();
    }
}
