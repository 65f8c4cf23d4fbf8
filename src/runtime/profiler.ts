/**
 * Per-node timing, written as a Chrome trace (chrome://tracing, Perfetto): one complete event per
 * node with its op, EP and input/output shapes, plus a summary of the ops that took the most time.
 */
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import type { Node } from '../ir/graph.js';

export interface TraceEvent {
  name: string;
  cat: 'Node';
  ph: 'X';
  ts: number;
  dur: number;
  pid: number;
  tid: number;
  args: { op_name: string; provider: string; input_shapes: string; output_shapes: string };
}

function shapes(vs: readonly (Value | undefined)[]): string {
  return vs
    .map((v) => (v instanceof Tensor ? `[${v.dims.join(',')}]` : v === undefined ? '-' : '?'))
    .join(' ');
}

export class Profiler {
  readonly events: TraceEvent[] = [];
  private readonly origin = performance.now();

  record(
    node: Node,
    ep: string,
    inputs: readonly (Value | undefined)[],
    outputs: readonly Value[],
    start: number,
    end: number,
  ): void {
    this.events.push({
      name: node.name,
      cat: 'Node',
      ph: 'X',
      ts: Math.round((start - this.origin) * 1000),
      dur: Math.round((end - start) * 1000),
      pid: 1,
      tid: 1,
      args: {
        op_name: node.opType,
        provider: ep,
        input_shapes: shapes(inputs),
        output_shapes: shapes(outputs),
      },
    });
  }

  /** Total time per op type, largest first. */
  summary(): { op: string; ms: number; count: number; share: number }[] {
    const byOp = new Map<string, { ms: number; count: number }>();
    let total = 0;
    for (const e of this.events) {
      const s = byOp.get(e.args.op_name) ?? { ms: 0, count: 0 };
      s.ms += e.dur / 1000;
      s.count++;
      total += e.dur / 1000;
      byOp.set(e.args.op_name, s);
    }
    return [...byOp]
      .map(([op, s]) => ({ op, ...s, share: total > 0 ? s.ms / total : 0 }))
      .sort((a, b) => b.ms - a.ms);
  }

  toJSON(): string {
    return JSON.stringify(this.events);
  }
}
