// Small shared pieces: status lines, ages that stay current, badges, pod pictures, permission-aware buttons, dialogs.
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { describe, useCan, type Attributes } from './access';
import { ApiError } from './api';
import { useApp } from './app';
import { age, clock } from './format';
import type { ListState } from './informer';
import { podHealth, podStatus, type Health, type Pod } from './model';

export const Now = createContext(Date.now());

export function Age({ t }: { t?: string | number }) {
  const now = useContext(Now);
  return <time dateTime={typeof t === 'number' ? new Date(t).toISOString() : t} title={clock(t)}>{age(t, now)}</time>;
}

export function ListStatus({ state, what }: { state: ListState<unknown>; what: string }) {
  if (state.error) return <p class="note error" role="alert">{what}: {state.error.message}{state.synced ? ' (showing the last known state; retrying)' : ''}</p>;
  if (!state.synced) return <p class="note" aria-busy="true">Loading {what}…</p>;
  return null;
}

export function Badge({ health, children }: { health: Health; children: ComponentChildren }) {
  return <span class={`badge ${health}`}>{children}</span>;
}

export function PodBadge({ pod }: { pod: Pod }) {
  return <Badge health={podHealth(pod)}>{podStatus(pod)}</Badge>;
}

/** Pods as coloured squares, one per pod; the summary is the picture's accessible name. */
export function PodPicture({ pods, label }: { pods: Pod[]; label: string }) {
  const counts = new Map<string, number>();
  for (const p of pods) counts.set(podStatus(p), (counts.get(podStatus(p)) ?? 0) + 1);
  const summary = pods.length === 0 ? 'no pods'
    : `${pods.length} pod${pods.length === 1 ? '' : 's'}: ` + [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  return (
    <div class="pods-picture" role="img" aria-label={`${label}: ${summary}`} title={summary}>
      {pods.map((p) => <span key={p.metadata.uid} class={`pod-dot ${podHealth(p)}`} data-pod={p.metadata.name} />)}
    </div>
  );
}

export function Meter({ value, max, label, text }: { value: number; max: number; label: string; text: string }) {
  const share = max > 0 ? Math.min(1, value / max) : 0;
  return (
    <div class="meter">
      <span class="meter-label">{label}</span>
      <span class="meter-bar" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={max} aria-valuenow={value} aria-valuetext={text}>
        <span class={`meter-fill ${share > 0.9 ? 'bad' : share > 0.7 ? 'progress' : 'ok'}`} style={{ width: `${share * 100}%` }} />
      </span>
      <span class="meter-text">{text}</span>
    </div>
  );
}

/** Runs an API action; its outcome is announced and kept for display. */
export function useAction(): { busy: boolean; error?: ApiError | Error; run: (what: string, action: () => Promise<unknown>) => Promise<boolean>; clear: () => void } {
  const { announce } = useApp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | Error | undefined>(undefined);
  return {
    busy,
    error,
    clear: () => setError(undefined),
    run: async (what, action) => {
      setBusy(true);
      setError(undefined);
      try {
        await action();
        announce(`${what}: done`);
        return true;
      } catch (e) {
        setError(e as Error);
        announce(`${what} failed: ${(e as Error).message}`);
        return false;
      } finally {
        setBusy(false);
      }
    },
  };
}

export function ActionError({ error }: { error?: Error }) {
  if (!error) return null;
  const causes = error instanceof ApiError ? error.causes : [];
  return (
    <div class="note error" role="alert">
      {error.message}
      {causes.length > 1 && <ul>{causes.map((c) => <li>{c.field ? <code>{c.field}</code> : null} {c.message}</li>)}</ul>}
    </div>
  );
}

/** A button for an API action, disabled with the reason when a SelfSubjectAccessReview says the user may not. */
export function ActionButton({ access, onClick, children, busy, danger, id }: {
  access: Attributes; onClick: () => void; children: ComponentChildren; busy?: boolean; danger?: boolean; id?: string;
}) {
  const decision = useCan(access);
  const denied = decision !== undefined && !decision.allowed;
  const reason = denied ? decision?.reason ?? `you may not ${describe(access)}` : decision && !decision.checked ? decision.reason : undefined;
  return (
    <button type="button" id={id} class={danger ? 'danger' : undefined} disabled={denied || busy || decision === undefined}
      title={reason} aria-disabled={denied} data-allowed={decision ? String(decision.allowed) : undefined}
      data-checked={decision ? String(decision.checked) : undefined} onClick={onClick}>
      {children}{denied && <span class="sr-only"> (not allowed: {reason})</span>}
    </button>
  );
}

/** A modal dialog (the platform's <dialog>: focus stays inside, Escape closes). */
export function Dialog({ title, open, onClose, children }: { title: string; open: boolean; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-label={title} onClose={onClose} onCancel={onClose}>
      <h2>{title}</h2>
      {open && children}
    </dialog>
  );
}

/** Asks before a destructive action; the action's error stays in the dialog. */
export function Confirm({ title, open, onClose, onConfirm, children, confirmLabel }: {
  title: string; open: boolean; onClose: () => void; onConfirm: () => Promise<boolean>; children: ComponentChildren; confirmLabel: string;
}) {
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={title} open={open} onClose={onClose}>
      {children}
      <div class="actions">
        <button type="button" class="danger" disabled={busy} onClick={async () => {
          setBusy(true);
          const ok = await onConfirm();
          setBusy(false);
          if (ok) onClose();
        }}>{confirmLabel}</button>
        <button type="button" onClick={onClose}>Cancel</button>
      </div>
    </Dialog>
  );
}

export function Labels({ labels }: { labels?: Record<string, string> }) {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return <span class="muted">none</span>;
  return <span class="labels">{entries.map(([k, v]) => <code key={k}>{k}={v}</code>)}</span>;
}

export function Conditions({ conditions }: { conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[] }) {
  if (!conditions?.length) return null;
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label={"Conditions"}>
    <table class="grid compact">
      <caption>Conditions</caption>
      <thead><tr><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Message</th><th scope="col">Since</th></tr></thead>
      <tbody>
        {conditions.map((c) => (
          <tr key={c.type}>
            <td>{c.type}</td>
            <td><Badge health={c.status === 'True' ? (c.type.match(/Pressure|Unavailable|Failed/) ? 'bad' : 'ok') : c.type.match(/Pressure|Unavailable|Failed/) ? 'ok' : 'bad'}>{c.status}</Badge></td>
            <td>{c.reason ?? ''}</td>
            <td class="wrap">{c.message ?? ''}</td>
            <td><Age t={c.lastTransitionTime} /></td>
          </tr>
        ))}
      </tbody>
    </table>
    </div>
  );
}
