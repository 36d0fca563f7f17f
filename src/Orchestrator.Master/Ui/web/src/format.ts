// Human forms of times and quantities, in kubectl's words.

/** kubectl's AGE: 45s, 3m12s, 5h, 2d4h, 12d. */
export function age(timestamp: string | number | undefined, now = Date.now()): string {
  if (timestamp === undefined) return '—';
  const then = typeof timestamp === 'number' ? timestamp : Date.parse(timestamp);
  if (!Number.isFinite(then)) return '—';
  const s = Math.max(0, Math.floor((now - then) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? (s % 60) + 's' : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return `${h}h${m % 60 ? (m % 60) + 'm' : ''}`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  return d < 8 ? `${d}d${h % 24 ? (h % 24) + 'h' : ''}` : `${d}d`;
}

export function clock(timestamp: string | number | undefined): string {
  if (timestamp === undefined) return '';
  const t = new Date(timestamp);
  return Number.isNaN(t.getTime()) ? '' : t.toLocaleString();
}

const Suffixes: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6,
};

/** A resource.Quantity ("250m", "1.5Gi", "128974848", "1e3") as a number (cores, bytes). */
export function quantity(value: string | number | undefined): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const match = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(value.trim());
  if (!match) return 0;
  return parseFloat(match[1]) * (Suffixes[match[2]] ?? 1);
}

export function cores(value: number): string {
  return value < 1 ? `${Math.round(value * 1000)}m` : `${value.toFixed(value < 10 ? 2 : 1)}`;
}

export function bytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (value >= 1024 && i < units.length - 1) { value /= 1024; i++; }
  return `${value < 10 && i > 0 ? value.toFixed(1) : Math.round(value)} ${units[i]}`;
}

export function rate(perSecond: number): string {
  return perSecond >= 100 ? `${Math.round(perSecond)}` : perSecond >= 10 ? perSecond.toFixed(1) : perSecond.toFixed(2);
}
