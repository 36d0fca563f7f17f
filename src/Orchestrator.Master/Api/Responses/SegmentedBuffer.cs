using System.Buffers;

namespace Orchestrator.Master.Api.Responses;

/// <summary>A body being written, in pooled segments of <see cref="SegmentBytes"/> (more for one larger write): grows
/// without copying what is written, and knows its length before the first byte goes out (the Content-Length).</summary>
internal sealed class SegmentedBuffer : IBufferWriter<byte>, IDisposable
{
    public const int SegmentBytes = 64 * 1024;

    private readonly List<(byte[] Array, int Used)> _full = [];
    private byte[] _current = ArrayPool<byte>.Shared.Rent(SegmentBytes);
    private int _used;

    public long Length { get; private set; }

    public void Advance(int count)
    {
        if (count < 0 || _used + count > _current.Length) throw new ArgumentOutOfRangeException(nameof(count));
        _used += count;
        Length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _current.AsMemory(_used);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _current.AsSpan(_used);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            if (_used == _current.Length) Ensure(1);
            var take = Math.Min(bytes.Length, _current.Length - _used);
            bytes[..take].CopyTo(_current.AsSpan(_used));
            Advance(take);
            bytes = bytes[take..];
        }
    }

    /// <summary>The written bytes, in order.</summary>
    public IEnumerable<ReadOnlyMemory<byte>> Segments
    {
        get
        {
            foreach (var (array, used) in _full) yield return array.AsMemory(0, used);
            if (_used > 0) yield return _current.AsMemory(0, _used);
        }
    }

    private void Ensure(int sizeHint)
    {
        if (_current.Length - _used >= Math.Max(sizeHint, 1)) return;
        _full.Add((_current, _used));
        _current = ArrayPool<byte>.Shared.Rent(Math.Max(sizeHint, SegmentBytes));
        _used = 0;
    }

    public void Dispose()
    {
        foreach (var (array, _) in _full) ArrayPool<byte>.Shared.Return(array);
        _full.Clear();
        ArrayPool<byte>.Shared.Return(_current);
        _current = [];
        _used = 0;
    }
}
