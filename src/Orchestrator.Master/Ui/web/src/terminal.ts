// An exec session in xterm.js over pods/{name}/exec, Kubernetes' WebSocket channel protocol (v5.channel.k8s.io, or
// v4): every binary message starts with its channel — 0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 resize.
// The token travels as the bearer subprotocol, since a browser cannot set Authorization on a WebSocket.
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { bearerProtocol, websocketUrl } from './api';

export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  onStatus: (status: string) => void;
}

const Stdin = 0, Stdout = 1, Stderr = 2, ErrorChannel = 3, Resize = 4;

export function openTerminal(host: HTMLElement, target: ExecTarget): () => void {
  const term = new Terminal({
    cursorBlink: true,
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
    fontSize: 14,
    scrollback: 5000,
    theme: { background: '#111418', foreground: '#e6e6e6' },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(host);
  term.textarea?.setAttribute('aria-label', `Terminal: ${target.command.join(' ')} in container ${target.container}`);
  term.textarea?.setAttribute('aria-describedby', 'terminal-help');
  // F6 leaves the terminal, so keyboard users are never trapped in it
  term.attachCustomKeyEventHandler((e) => {
    if (e.key !== 'F6' || e.type !== 'keydown') return true;
    const focusable = [...document.querySelectorAll<HTMLElement>('a[href], button:not([disabled]), input, select, textarea, [tabindex="0"]')]
      .filter((el) => !host.contains(el));
    const after = focusable.find((el) => host.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
    (after ?? focusable[0])?.focus();
    return false;
  });
  fit.fit();

  const query = new URLSearchParams({ container: target.container, stdin: 'true', stdout: 'true', tty: 'true' });
  for (const part of target.command) query.append('command', part);
  const path = `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/exec?${query}`;
  const socket = new WebSocket(websocketUrl(path), ['v5.channel.k8s.io', 'v4.channel.k8s.io', bearerProtocol()]);
  socket.binaryType = 'arraybuffer';
  const encoder = new TextEncoder();
  let ended = false;

  const sendFrame = (channel: number, payload: Uint8Array) => {
    if (socket.readyState !== WebSocket.OPEN) return;
    const frame = new Uint8Array(payload.length + 1);
    frame[0] = channel;
    frame.set(payload, 1);
    socket.send(frame);
  };
  const resize = () => sendFrame(Resize, encoder.encode(JSON.stringify({ Width: term.cols, Height: term.rows })));

  socket.onopen = () => {
    target.onStatus(`Connected (${socket.protocol}) to ${target.container}: ${target.command.join(' ')}`);
    resize();
    term.focus();
  };
  socket.onmessage = (event) => {
    const data = new Uint8Array(event.data as ArrayBuffer);
    if (data.length === 0) return;
    const channel = data[0];
    if (channel === Stdout || channel === Stderr) {
      term.write(data.subarray(1));
    } else if (channel === ErrorChannel) {
      ended = true;
      target.onStatus(describeStatus(new TextDecoder().decode(data.subarray(1))));
    }
  };
  socket.onerror = () => target.onStatus('The connection failed: the API refused the exec request or the node could not be reached.');
  socket.onclose = (event) => {
    if (!ended) target.onStatus(event.code === 1000 ? 'The session ended.' : `The connection closed (${event.code}${event.reason ? ': ' + event.reason : ''}).`);
    term.write('\r\n\x1b[2m[session ended]\x1b[0m\r\n');
  };
  const input = term.onData((data) => sendFrame(Stdin, encoder.encode(data)));
  const sized = term.onResize(() => resize());
  const observer = new ResizeObserver(() => fit.fit());
  observer.observe(host);

  return () => {
    observer.disconnect();
    input.dispose();
    sized.dispose();
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(1000);
    term.dispose();
  };
}

function describeStatus(text: string): string {
  try {
    const status = JSON.parse(text) as { status?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } };
    if (status.status === 'Success') return 'The command exited with code 0.';
    const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
    return code ? `The command exited with code ${code}.` : `The command failed: ${status.message ?? text}`;
  } catch {
    return text;
  }
}
