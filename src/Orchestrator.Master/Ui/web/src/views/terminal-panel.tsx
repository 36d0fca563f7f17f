// The exec terminal's frame: container and command, and the terminal itself, whose code (xterm.js) is loaded only
// when a terminal is opened.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Pod } from '../model';

export function TerminalPanel({ pod }: { pod: Pod }) {
  const [container, setContainer] = useState(pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? pod.spec.containers[0].name);
  const [command, setCommand] = useState('sh');
  const [session, setSession] = useState(0);
  const [status, setStatus] = useState('Connecting…');
  const host = useRef<HTMLDivElement>(null);
  const running = pod.status?.phase === 'Running';

  useEffect(() => {
    if (!running || !host.current) return;
    let dispose: (() => void) | undefined;
    let cancelled = false;
    setStatus('Connecting…');
    void import('../terminal').then((m) => {
      if (cancelled || !host.current) return;
      dispose = m.openTerminal(host.current, {
        namespace: pod.metadata.namespace!, pod: pod.metadata.name, container, command: command.trim().split(/\s+/), onStatus: setStatus,
      });
    }).catch((e) => setStatus(`Cannot load the terminal: ${(e as Error).message}`));
    return () => { cancelled = true; dispose?.(); };
  }, [pod.metadata.uid, running, session]);

  if (!running) return <p class="note">The pod is not running: there is nothing to run a command in.</p>;
  return (
    <div class="terminal-panel">
      <form class="toolbar" aria-label="Terminal options" onSubmit={(e) => { e.preventDefault(); setSession((n) => n + 1); }}>
        <div class="field">
          <label for="exec-container">Container</label>
          <select id="exec-container" value={container} onChange={(e) => setContainer((e.target as HTMLSelectElement).value)}>
            {pod.spec.containers.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="exec-command">Command</label>
          <input id="exec-command" value={command} onInput={(e) => setCommand((e.target as HTMLInputElement).value)} />
        </div>
        <button type="submit">Connect</button>
      </form>
      <p class="muted small" id="terminal-help">Keys go to the process in the container; press F6 to move the focus out of the terminal.</p>
      <div class="terminal" ref={host} data-testid="terminal" />
      <p class="muted small" role="status" data-testid="terminal-status">{status}</p>
    </div>
  );
}
