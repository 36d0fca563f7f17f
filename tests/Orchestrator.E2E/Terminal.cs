using System.Text.Json;

namespace Orchestrator.E2E;

/// <summary>
/// Runs a command in a pseudo-terminal, as a person at a terminal would (kubectl run -it, kubectl attach -it, kubectl
/// debug -it): each step waits for a text in the output and then types its keys. Python's pty module does the
/// terminal; the output (with the terminal's echo) and the exit code come back.
/// </summary>
public static class Terminal
{
    public sealed record Step(string Expect, string Type);

    private const string Driver = """
        import json, os, pty, select, sys, time
        steps = json.loads(os.environ["TERMINAL_STEPS"])
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp(sys.argv[1], sys.argv[1:])
        out, seen = b"", 0
        def read(timeout):
            global out
            r, _, _ = select.select([fd], [], [], timeout)
            if not r: return True
            try: data = os.read(fd, 4096)
            except OSError: return False
            out += data
            return len(data) > 0
        for expect, keys in steps:
            deadline = time.time() + 120
            while expect.encode() not in out[seen:]:
                if time.time() > deadline or not read(1):
                    sys.stdout.write(out.decode(errors="replace"))
                    sys.stderr.write("no %r in the terminal's output\n" % expect)
                    os.kill(pid, 9); sys.exit(124)
            seen = out.index(expect.encode(), seen) + len(expect)
            os.write(fd, keys.encode())
        deadline = time.time() + 120
        while time.time() < deadline and read(1): pass
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(out.decode(errors="replace"))
        sys.exit(os.waitstatus_to_exitcode(status))
        """;

    public static Task<CommandResult> Run(IReadOnlyDictionary<string, string> environment, IReadOnlyList<Step> steps, params string[] command)
    {
        var env = new Dictionary<string, string>(environment)
        {
            ["TERMINAL_STEPS"] = JsonSerializer.Serialize(steps.Select(s => new[] { s.Expect, s.Type })),
            ["TERM"] = "xterm",
        };
        return Command.Run("python3", ["-c", Driver, .. command], env, TimeSpan.FromMinutes(5));
    }
}
