// Live logs of a pod's container: pods/{name}/log streamed with follow, or the previous instance's, kept to the
// last lines so a chatty container cannot exhaust the page.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, request } from '../api';
import type { Pod } from '../model';

const MaxLines = 5000;

export function Logs({ pod }: { pod: Pod }) {
  const containers = [...(pod.spec.initContainers ?? []).map((c) => c.name), ...pod.spec.containers.map((c) => c.name)];
  const [container, setContainer] = useState(pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? pod.spec.containers[0].name);
  const [follow, setFollow] = useState(true);
  const [previous, setPrevious] = useState(false);
  const [tail, setTail] = useState('500');
  const [text, setText] = useState('');
  const [message, setMessage] = useState('');
  const output = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  const ns = pod.metadata.namespace!;
  const name = pod.metadata.name;
  // a new instance of the container (started, restarted) is read again, as `kubectl logs -f` would be rerun
  const status = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s) => s.name === container);
  const instance = `${status?.restartCount ?? 0}|${status?.state?.running ? 'running' : status?.state?.terminated ? 'ended' : 'waiting'}`;

  useEffect(() => {
    const abort = new AbortController();
    let buffer = '';
    let pending = false;
    setText('');
    setMessage(follow && !previous ? 'Following…' : 'Loading…');
    const flush = () => {
      pending = false;
      const lines = buffer.split('\n');
      if (lines.length > MaxLines) buffer = lines.slice(-MaxLines).join('\n');
      setText(buffer);
    };
    const query = new URLSearchParams({ container });
    if (follow && !previous) query.set('follow', 'true');
    if (previous) query.set('previous', 'true');
    if (tail !== 'all') query.set('tailLines', tail);
    const following = follow && !previous;
    const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}/log?${query}`;
    (async () => {
      // a followed stream that breaks (the connection dropped, the network changed) is read again from the
      // same tail: the text is replaced by the fresh copy, so nothing is lost or doubled
      for (let attempt = 0; !abort.signal.aborted; attempt++) {
        let fresh = true;
        try {
          const response = await request(path, { accept: 'text/plain', signal: abort.signal });
          const reader = response.body!.getReader();
          const decoder = new TextDecoder();
          if (attempt > 0) setMessage('Following…');
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            if (fresh) { buffer = ''; fresh = false; }
            buffer += decoder.decode(value, { stream: true });
            if (!pending) {
              pending = true;
              requestAnimationFrame(flush);
            }
          }
          flush();
          setMessage(following ? 'The log ended (the container stopped).' : 'End of log.');
          return;
        } catch (e) {
          if (abort.signal.aborted) return;
          if (e instanceof ApiError) {
            setMessage(instance.endsWith('waiting') && !previous
              ? 'Waiting for the container to start…'
              : `Cannot read the log: ${e.message}`);
            return;
          }
          if (!following) {
            setMessage(`Cannot read the log: ${(e as Error).message}`);
            return;
          }
          setMessage('The connection dropped: reconnecting…');
          await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** attempt, 5000)));
        }
      }
    })();
    return () => abort.abort();
  }, [ns, name, container, follow, previous, tail, instance]);

  useEffect(() => {
    const el = output.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [text]);

  return (
    <div class="logs-panel">
      <form class="toolbar" onSubmit={(e) => e.preventDefault()} aria-label="Log options">
        <div class="field">
          <label for="log-container">Container</label>
          <select id="log-container" value={container} onChange={(e) => setContainer((e.target as HTMLSelectElement).value)}>
            {containers.map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
        </div>
        <label class="check"><input type="checkbox" checked={follow} disabled={previous} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> Follow</label>
        <label class="check"><input type="checkbox" checked={previous} onChange={(e) => setPrevious((e.target as HTMLInputElement).checked)} /> Previous instance</label>
        <div class="field">
          <label for="log-tail">Lines</label>
          <select id="log-tail" value={tail} onChange={(e) => setTail((e.target as HTMLSelectElement).value)}>
            {['100', '500', '2000', 'all'].map((t) => <option key={t} value={t}>{t === 'all' ? 'all' : `last ${t}`}</option>)}
          </select>
        </div>
      </form>
      <pre class="logs" ref={output} tabIndex={0} aria-label={`Log of container ${container}`} data-testid="logs"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}>{text}</pre>
      <p class="muted small" role="status">{message}</p>
    </div>
  );
}
