// Edit an object as YAML, as `kubectl edit` does, with its errors at their lines: YAML syntax while typing, then the
// server's own validation by a dry run (PUT ?dryRun=All&fieldValidation=Strict) before anything is applied.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, getJson, send } from '../api';
import { href, useApp, workloadHref } from '../app';
import { objectPath } from '../discovery';
import type { KObject } from '../model';
import { ActionButton } from '../ui';

type YamlModule = typeof import('yaml');

interface Problem { line?: number; field?: string; message: string }

const CheckDelay = 900;

/** "spec.template.spec.containers[0].image" → ["spec","template","spec","containers",0,"image"]. */
export function fieldPath(field: string): (string | number)[] {
  const path: (string | number)[] = [];
  for (const part of field.match(/[^.[\]]+|\[[^\]]*\]/g) ?? []) {
    if (part.startsWith('[')) {
      const inner = part.slice(1, -1);
      path.push(/^\d+$/.test(inner) ? Number(inner) : inner);
    } else {
      path.push(part);
    }
  }
  return path;
}

function lineOf(yaml: YamlModule, text: string, field: string): number | undefined {
  const counter = new yaml.LineCounter();
  const doc = yaml.parseDocument(text, { lineCounter: counter });
  const path = fieldPath(field);
  while (path.length > 0) {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return counter.linePos(node.range[0]).line;
    // the key of a missing or non-node value: find the pair in its parent
    const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
    const last = path[path.length - 1];
    if (yaml.isMap(parent)) {
      const pair = parent.items.find((p) => yaml.isScalar(p.key) && p.key.value === last);
      const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (range) return counter.linePos(range[0]).line;
    }
    path.pop();
  }
  return undefined;
}

/** The server's refusal as problems at lines: Invalid's causes, or strict decoding's unknown fields. */
function problemsOf(yaml: YamlModule, text: string, error: unknown): Problem[] {
  if (!(error instanceof ApiError)) return [{ message: (error as Error).message }];
  const problems: Problem[] = [];
  for (const cause of error.causes) {
    if (!cause.field && !cause.message) continue;
    problems.push({ field: cause.field, line: cause.field ? lineOf(yaml, text, cause.field) : undefined, message: cause.message ?? cause.reason ?? '' });
  }
  for (const m of error.message.matchAll(/unknown field "([^"]+)"/g)) {
    problems.push({ field: m[1], line: lineOf(yaml, text, m[1]), message: `unknown field "${m[1]}"` });
  }
  if (problems.length === 0) problems.push({ message: error.message });
  return problems;
}

export function EditPage({ group, resource: resourceName, namespace, name }: { group: string; resource: string; namespace?: string; name: string }) {
  const app = useApp();
  const resource = app.discovery.find(group, resourceName);
  const [yaml, setYaml] = useState<YamlModule | undefined>(undefined);
  const [text, setText] = useState('');
  const [loaded, setLoaded] = useState<KObject | undefined>(undefined);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [state, setState] = useState<'loading' | 'editing' | 'checking' | 'valid' | 'invalid' | 'applying' | 'applied' | 'failed'>('loading');
  const [message, setMessage] = useState('');
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLOListElement>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const checkSeq = useRef(0);

  const load = async (y: YamlModule) => {
    if (!resource) return;
    try {
      const object = await getJson<KObject>(objectPath(resource, namespace, name));
      delete object.metadata.managedFields;
      setLoaded(object);
      setText(y.stringify(object, { lineWidth: 0 }));
      setProblems([]);
      setState('editing');
    } catch (e) {
      setMessage(`Cannot load ${name}: ${(e as Error).message}`);
      setState('failed');
    }
  };

  useEffect(() => {
    let live = true;
    void import('yaml').then((y) => { if (live) { setYaml(y); void load(y); } });
    return () => { live = false; clearTimeout(timer.current); };
  }, [group, resourceName, namespace, name]);

  /** Parses, then asks the server for a dry run; true when the server would accept it. */
  const check = async (y: YamlModule, source: string, dryRun: boolean): Promise<KObject | undefined> => {
    const seq = ++checkSeq.current;
    const doc = y.parseDocument(source, { prettyErrors: true });
    if (doc.errors.length > 0) {
      setProblems(doc.errors.map((e) => ({ line: e.linePos?.[0]?.line, message: e.message.split('\n')[0] })));
      setState('invalid');
      return undefined;
    }
    const object = doc.toJS() as KObject;
    if (!object || typeof object !== 'object' || !object.metadata) {
      setProblems([{ line: 1, message: 'the document must be one object with metadata' }]);
      setState('invalid');
      return undefined;
    }
    if (!dryRun) return object;
    setState('checking');
    try {
      await send('PUT', `${objectPath(resource!, namespace, name)}?dryRun=All&fieldValidation=Strict`, object);
      if (seq !== checkSeq.current) return undefined;
      setProblems([]);
      setState('valid');
      return object;
    } catch (e) {
      if (seq !== checkSeq.current) return undefined;
      setProblems(problemsOf(y, source, e));
      setState('invalid');
      return undefined;
    }
  };

  const onInput = (value: string) => {
    setText(value);
    setState('editing');
    clearTimeout(timer.current);
    if (yaml) timer.current = setTimeout(() => void check(yaml, value, true), CheckDelay);
  };

  const apply = async () => {
    if (!yaml || !resource) return;
    clearTimeout(timer.current);
    const object = await check(yaml, text, true);
    if (!object) {
      area.current?.focus();
      return;
    }
    setState('applying');
    try {
      await send('PUT', `${objectPath(resource, namespace, name)}?fieldValidation=Strict`, object);
      setState('applied');
      setMessage(`Applied. The editor now shows the object as the server stored it.`);
      app.announce(`${name} applied`);
      await load(yaml);
      setState('applied');
    } catch (e) {
      setProblems(problemsOf(yaml, text, e));
      setState('failed');
    }
  };

  const jump = (line: number) => {
    const el = area.current;
    if (!el) return;
    const offsets = text.split('\n').slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    el.focus();
    el.setSelectionRange(offsets, offsets + (text.split('\n')[line - 1]?.length ?? 0));
    const lineHeight = el.scrollHeight / Math.max(1, text.split('\n').length);
    el.scrollTop = Math.max(0, (line - 5) * lineHeight);
  };

  if (!resource) return <><h1 tabIndex={-1}>Cannot edit</h1><p>This server does not serve {resourceName}.</p></>;
  const lines = text.split('\n');
  const errorLines = new Map(problems.filter((p) => p.line).map((p) => [p.line!, p.message]));
  const back = resourceName === 'pods' ? href('pods', namespace, name) : resourceName === 'services' ? href('services', namespace, name)
    : namespace ? workloadHref(resourceName, namespace, name) : href('');
  const stateText: Record<string, string> = {
    loading: 'Loading…', editing: 'Edited: checking when you stop typing.', checking: 'Asking the server (dry run)…',
    valid: 'The server accepts this (dry run).', invalid: `${problems.length} problem${problems.length === 1 ? '' : 's'}.`,
    applying: 'Applying…', applied: message, failed: message || 'The server refused the change.',
  };

  return (
    <section aria-labelledby="edit-title" class="edit">
      <p class="crumbs"><a href={back}>Back to {name}</a></p>
      <h1 id="edit-title" tabIndex={-1}>Edit {resource.kind} {name}</h1>
      <div class="editor">
        <ol class="gutter" ref={gutter} aria-hidden="true">
          {lines.map((_, i) => <li key={i} class={errorLines.has(i + 1) ? 'error' : undefined} title={errorLines.get(i + 1)}>{i + 1}</li>)}
        </ol>
        <textarea ref={area} id="yaml" spellcheck={false} autocapitalize="off" aria-label={`YAML of ${resource.kind} ${name}`}
          aria-invalid={problems.length > 0} aria-describedby="edit-problems edit-state" value={text} disabled={state === 'loading'}
          onInput={(e) => onInput((e.target as HTMLTextAreaElement).value)}
          onScroll={(e) => { if (gutter.current) gutter.current.scrollTop = (e.target as HTMLTextAreaElement).scrollTop; }} />
      </div>
      <p id="edit-state" class={`small ${problems.length ? 'error-text' : 'muted'}`} role="status" data-state={state}>{stateText[state]}</p>
      <ul id="edit-problems" class="problems" data-testid="edit-problems">
        {problems.map((p, i) => (
          <li key={i}>
            {p.line ? <button type="button" class="link" onClick={() => jump(p.line!)}>Line {p.line}</button> : <span>Object</span>}
            {p.field && <code> {p.field}</code>}: {p.message}
          </li>
        ))}
      </ul>
      <div class="actions">
        <ActionButton access={{ verb: 'update', group, resource: resourceName, namespace, name }} busy={state === 'applying' || state === 'loading'}
          onClick={() => void apply()}>Apply</ActionButton>
        <button type="button" onClick={() => yaml && void check(yaml, text, true)} disabled={!yaml || state === 'loading'}>Check (dry run)</button>
        <button type="button" onClick={() => yaml && void load(yaml)} disabled={!yaml}>Reload from server</button>
        {loaded && <span class="muted small">resourceVersion {loaded.metadata.resourceVersion}</span>}
      </div>
    </section>
  );
}

