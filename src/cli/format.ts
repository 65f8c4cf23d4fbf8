/**
 * Human-readable printing of values and tables for the CLI.
 */
import { decodeMinifloats, isMinifloat, Tensor, type Value } from '../index.js';

export function formatNumber(x: number | bigint | string): string {
  if (typeof x === 'string') return JSON.stringify(x);
  if (typeof x === 'bigint') return x.toString();
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e5 ? x.toFixed(5).replace(/0+$/, '') : x.toExponential(4);
}

export function tensorValues(t: Tensor): ArrayLike<number | bigint | string> {
  if (isMinifloat(t.type)) return decodeMinifloats(t.type, t.data as Uint8Array | Uint16Array);
  return t.data as ArrayLike<number | bigint | string>;
}

export function describeValue(v: Value, head = 8): string {
  if (v === null) return 'optional: empty';
  if (v instanceof Tensor) {
    const vals = tensorValues(v);
    const shown = Array.from({ length: Math.min(head, vals.length) }, (_, i) => formatNumber(vals[i]));
    const more = vals.length > head ? `, … (${v.size} values)` : '';
    return `${v.type} [${v.dims.join(', ')}]  [${shown.join(', ')}${more}]`;
  }
  if (Array.isArray(v))
    return `sequence of ${v.length}${v.length ? `: first ${describeValue(v[0], head)}` : ''}`;
  return `map of ${v.size}`;
}

/** Renders rows as an aligned plain-text table. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/**
 * A latency in milliseconds with three significant digits under 10 ms (a 31 µs median reads
 * 0.031, not 0.0, and a 0.45 ms step can be told from a 0.5 ms one), one decimal above.
 */
export function formatMs(ms: number): string {
  if (ms >= 10 || ms === 0) return ms.toFixed(1);
  return ms >= 1 ? ms.toFixed(2) : ms.toPrecision(3);
}
