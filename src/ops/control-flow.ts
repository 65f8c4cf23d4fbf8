/**
 * Control flow: If, Loop and Scan. Their bodies are subgraphs run through `ctx.runSubgraph`, which
 * binds the body's formal inputs by position and lets the body read every value visible at the node
 * (outer scope). Bodies run one iteration at a time; the executor yields to the event loop inside
 * long bodies, so a long Loop never blocks the thread for its whole run.
 */
import { dtypeInfo, type TensorType } from '../core/dtype.js';
import { OnyxError, check } from '../core/errors.js';
import { MAX_LOOP_ITERATIONS } from '../core/limits.js';
import { Tensor, type Dims } from '../core/tensor.js';
import { describeValue, type Value } from '../core/value.js';
import type { Graph, ValueInfo } from '../ir/graph.js';
import type { OpDef, RunContext } from './kernel.js';
import { sliceAxis, stackAxis, type AllocFn } from './sequence.js';
import { normalizeAxis } from './util/axes.js';
import { intsOf, tensorInput } from './util/numeric.js';

/** Every since-version of If/Loop (type-constraint updates only after 16). */
const IF_LOOP_VERSIONS = [1, 11, 13, 16, 19, 21, 23, 24, 25];
const SCAN_VERSIONS = [8, 9, 11, 16, 19, 21, 23, 24, 25];

/** A condition tensor's truth value: it must hold exactly one element. */
function truthOf(v: Value | undefined, what: string): boolean {
  const t = tensorInput(v, what);
  if (t.size !== 1) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `${what} must hold a single element, got dims [${t.dims.join(', ')}]`,
    );
  }
  const x = (t.data as ArrayLike<number | bigint | string>)[0];
  return typeof x === 'string' ? x.length > 0 : x !== 0 && x !== 0n;
}

function scalarBool(b: boolean): Tensor {
  return new Tensor('bool', Uint8Array.of(b ? 1 : 0), []);
}

function allocOf(ctx: RunContext): AllocFn {
  return (type, dims) => ctx.alloc(type, dims);
}

/**
 * The empty result of a scan output that never produced a value (zero iterations): its element
 * type and per-iteration dims come from the body's declared output type when known.
 */
function emptyScanOutput(info: ValueInfo, axis: number, alloc: AllocFn): Tensor {
  const t = info.type;
  const type: TensorType = t && t.kind === 'tensor' ? t.elemType : 'float32';
  const inner: number[] = [];
  if (t && t.kind === 'tensor' && t.shape) {
    for (const d of t.shape) inner.push(typeof d === 'number' ? d : 0);
  }
  const a = Math.min(Math.max(axis < 0 ? axis + inner.length + 1 : axis, 0), inner.length);
  inner.splice(a, 0, 0);
  return alloc(type, inner);
}

function checkBodyOutputs(outs: readonly Value[], body: Graph, what: string): void {
  if (outs.length !== body.outputs.length) {
    throw new OnyxError(
      'RUNTIME_ERROR',
      `${what} returned ${outs.length} values, expected ${body.outputs.length}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------- If

const ifOp: OpDef = {
  opType: 'If',
  versions: IF_LOOP_VERSIONS,
  build(node) {
    const thenBranch = node.attrs.graph('then_branch');
    const elseBranch = node.attrs.graph('else_branch');
    for (const [name, g] of [
      ['then_branch', thenBranch],
      ['else_branch', elseBranch],
    ] as const) {
      check(
        g.outputs.length === node.outputCount,
        () => `${name} has ${g.outputs.length} outputs but the If node has ${node.outputCount}`,
      );
      check(g.inputs.length === 0, () => `${name} must take no inputs, it declares ${g.inputs.length}`);
    }
    return async (inputs, ctx) => {
      const branch = truthOf(inputs[0], 'cond') ? thenBranch : elseBranch;
      const outs = await ctx.runSubgraph(branch, []);
      checkBodyOutputs(outs, branch, branch === thenBranch ? 'then_branch' : 'else_branch');
      return outs;
    };
  },
};

// -------------------------------------------------------------------------------------------- Loop

const loopOp: OpDef = {
  opType: 'Loop',
  versions: IF_LOOP_VERSIONS,
  build(node) {
    const body = node.attrs.graph('body');
    const nCarried = node.inputCount - 2;
    check(nCarried >= 0, () => `Loop needs inputs (M, cond, v_initial...), got ${node.inputCount}`);
    check(
      body.inputs.length === nCarried + 2,
      () =>
        `Loop body takes ${body.inputs.length} inputs, expected ${nCarried + 2} (iteration_num, condition and ${nCarried} loop-carried values)`,
    );
    const nScan = body.outputs.length - 1 - nCarried;
    check(
      nScan >= 0,
      () =>
        `Loop body has ${body.outputs.length} outputs, expected at least ${1 + nCarried} (condition and ${nCarried} loop-carried values)`,
    );
    check(
      node.outputCount <= nCarried + nScan,
      () =>
        `Loop node has ${node.outputCount} outputs, but its body yields only ${nCarried} loop-carried values and ${nScan} scan outputs`,
    );
    return async (inputs, ctx) => {
      let trip: bigint | undefined;
      if (inputs[0] !== undefined) {
        const m = tensorInput(inputs[0], 'M (trip count)');
        check(m.size === 1, () => `M (trip count) must be a scalar, got dims [${m.dims.join(', ')}]`);
        trip =
          dtypeInfo(m.type).numericClass === 'bigint'
            ? BigInt((m.data as BigInt64Array)[0])
            : BigInt(intsOf(m)[0]);
      }
      let cond = inputs[1] === undefined ? true : truthOf(inputs[1], 'cond');
      let carried: Value[] = inputs.slice(2).map((v) => (v === undefined ? null : v));
      const scans: Tensor[][] = Array.from({ length: nScan }, () => []);
      let i = 0;
      // The body's condition output is honoured even when the cond input is omitted, as
      // onnxruntime and the ONNX reference do. A loop that neither M nor the condition stops
      // within MAX_LOOP_ITERATIONS (M omitted or larger, e.g. INT64_MAX) is cut off there.
      while (cond && (trip === undefined || BigInt(i) < trip)) {
        if (i >= MAX_LOOP_ITERATIONS) {
          const m = trip === undefined ? 'no trip count' : `trip count M=${trip}`;
          throw new OnyxError(
            'LIMIT_EXCEEDED',
            `Loop reached ${MAX_LOOP_ITERATIONS} iterations with ${m} and a condition that stayed true`,
          );
        }
        const iter = new Tensor('int64', BigInt64Array.of(BigInt(i)), []);
        const outs = await ctx.runSubgraph(body, [iter, scalarBool(true), ...carried]);
        checkBodyOutputs(outs, body, 'Loop body');
        cond = truthOf(outs[0], 'Loop body condition output');
        carried = outs.slice(1, 1 + nCarried);
        for (let k = 0; k < nScan; k++) {
          const v = outs[1 + nCarried + k];
          if (!(v instanceof Tensor)) {
            throw new OnyxError(
              'TYPE_MISMATCH',
              `Loop scan output ${k} must be a tensor, got ${describeValue(v)}`,
            );
          }
          scans[k].push(v);
        }
        i++;
      }
      const alloc = allocOf(ctx);
      const scanOuts = scans.map((list, k) =>
        list.length === 0
          ? emptyScanOutput(body.outputs[1 + nCarried + k], 0, alloc)
          : stackScanOutput(list, 0, k, 'Loop', alloc),
      );
      return [...carried, ...scanOuts].slice(0, Math.max(node.outputCount, 0));
    };
  },
};

function stackScanOutput(list: Tensor[], axis: number, k: number, op: string, alloc?: AllocFn): Tensor {
  try {
    return stackAxis(list, axis, alloc);
  } catch (e) {
    if (e instanceof OnyxError) {
      throw new OnyxError(e.code, `${op} scan output ${k} changes shape between iterations: ${e.message}`);
    }
    throw e;
  }
}

// -------------------------------------------------------------------------------------------- Scan

interface ScanPlan {
  body: Graph;
  nStates: number;
  nScanIn: number;
  nScanOut: number;
  inAxes: number[];
  inReverse: boolean[];
  outAxes: number[];
  outReverse: boolean[];
}

function flags(values: number[], n: number, what: string): boolean[] {
  check(
    values.length === n,
    () =>
      `${what} has ${values.length} entries, expected ${n} (one per ${what.includes('output') ? 'scan output' : 'scan input'})`,
  );
  return values.map((v) => {
    check(v === 0 || v === 1, () => `${what} entries must be 0 (forward) or 1 (reverse), got ${v}`);
    return v === 1;
  });
}

/**
 * Runs the scan iterations for one (unbatched) set of states and scan inputs. Each scan input's
 * scanned axis has `len` usable entries (`seqLen` ≤ the axis' size in opset 8).
 */
async function runScan(
  plan: ScanPlan,
  statesIn: Value[],
  xs: Tensor[],
  seqLen: number,
  ctx: RunContext,
): Promise<{ states: Value[]; scans: Tensor[][] }> {
  const alloc = allocOf(ctx);
  let states = statesIn;
  const scans: Tensor[][] = Array.from({ length: plan.nScanOut }, () => []);
  for (let t = 0; t < seqLen; t++) {
    const slices = xs.map((x, j) =>
      sliceAxis(x, plan.inAxes[j], plan.inReverse[j] ? seqLen - 1 - t : t, 1, true, alloc),
    );
    const outs = await ctx.runSubgraph(plan.body, [...states, ...slices]);
    checkBodyOutputs(outs, plan.body, 'Scan body');
    states = outs.slice(0, plan.nStates);
    for (let k = 0; k < plan.nScanOut; k++) {
      const v = outs[plan.nStates + k];
      if (!(v instanceof Tensor)) {
        throw new OnyxError('TYPE_MISMATCH', `Scan output ${k} must be a tensor, got ${describeValue(v)}`);
      }
      scans[k].push(v);
    }
  }
  return { states, scans };
}

const scanOp: OpDef = {
  opType: 'Scan',
  versions: SCAN_VERSIONS,
  build(node) {
    const body = node.attrs.graph('body');
    const nScanIn = node.attrs.int('num_scan_inputs');
    const v8 = node.sinceVersion < 9;
    const nStates = node.inputCount - (v8 ? 1 : 0) - nScanIn;
    check(
      nScanIn >= 1 && nStates >= 0,
      () => `num_scan_inputs ${nScanIn} does not fit the node's ${node.inputCount} inputs`,
    );
    check(
      body.inputs.length === nStates + nScanIn,
      () =>
        `Scan body takes ${body.inputs.length} inputs, expected ${nStates} states + ${nScanIn} scan inputs`,
    );
    const nScanOut = body.outputs.length - nStates;
    check(
      nScanOut >= 0,
      () => `Scan body has ${body.outputs.length} outputs, fewer than its ${nStates} states`,
    );
    const attrs = node.attrs;
    const plan: ScanPlan = {
      body,
      nStates,
      nScanIn,
      nScanOut,
      inAxes: v8
        ? new Array<number>(nScanIn).fill(0)
        : attrs.ints('scan_input_axes', new Array<number>(nScanIn).fill(0)),
      inReverse: v8
        ? flags(attrs.ints('directions', new Array<number>(nScanIn).fill(0)), nScanIn, 'directions')
        : flags(
            attrs.ints('scan_input_directions', new Array<number>(nScanIn).fill(0)),
            nScanIn,
            'scan_input_directions',
          ),
      outAxes: v8
        ? new Array<number>(nScanOut).fill(0)
        : attrs.ints('scan_output_axes', new Array<number>(nScanOut).fill(0)),
      outReverse: v8
        ? new Array<boolean>(nScanOut).fill(false)
        : flags(
            attrs.ints('scan_output_directions', new Array<number>(nScanOut).fill(0)),
            nScanOut,
            'scan_output_directions',
          ),
    };
    check(
      plan.inAxes.length === nScanIn,
      () => `scan_input_axes has ${plan.inAxes.length} entries, expected ${nScanIn}`,
    );
    check(
      plan.outAxes.length === nScanOut,
      () => `scan_output_axes has ${plan.outAxes.length} entries, expected ${nScanOut}`,
    );
    return v8 ? scan8(plan) : scan9(plan);
  },
};

function scan9(plan: ScanPlan) {
  return async (inputs: readonly (Value | undefined)[], ctx: RunContext): Promise<Value[]> => {
    const states = inputs.slice(0, plan.nStates).map((v, i) => tensorInput(v, `initial state ${i}`));
    const xs = inputs.slice(plan.nStates).map((v, j) => tensorInput(v, `scan input ${j}`));
    const axes = xs.map((x, j) => normalizeAxis(plan.inAxes[j], x.dims.length, `scan_input_axes[${j}]`));
    const seqLen = xs[0].dims[axes[0]];
    xs.forEach((x, j) => {
      if (x.dims[axes[j]] !== seqLen) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `scan input ${j} has ${x.dims[axes[j]]} entries along axis ${axes[j]}, scan input 0 has ${seqLen}`,
        );
      }
    });
    const run = await runScan({ ...plan, inAxes: axes }, states, xs, seqLen, ctx);
    const alloc = allocOf(ctx);
    const outs = run.scans.map((list, k) => {
      const info = plan.body.outputs[plan.nStates + k];
      if (list.length === 0) return emptyScanOutput(info, plan.outAxes[k], alloc);
      const axis = normalizeAxis(plan.outAxes[k], list[0].dims.length + 1, `scan_output_axes[${k}]`);
      return stackScanOutput(plan.outReverse[k] ? list.slice().reverse() : list, axis, k, 'Scan', alloc);
    });
    return [...run.states, ...outs];
  };
}

/** Scan-8: a leading batch axis on states and scan inputs, and optional per-batch sequence_lens. */
function scan8(plan: ScanPlan) {
  return async (inputs: readonly (Value | undefined)[], ctx: RunContext): Promise<Value[]> => {
    const alloc = allocOf(ctx);
    const states = inputs.slice(1, 1 + plan.nStates).map((v, i) => tensorInput(v, `initial state ${i}`));
    const xs = inputs.slice(1 + plan.nStates).map((v, j) => tensorInput(v, `scan input ${j}`));
    for (const [what, t] of [
      ...states.map((s, i) => [`initial state ${i}`, s] as const),
      ...xs.map((x, j) => [`scan input ${j}`, x] as const),
    ]) {
      check(t.dims.length >= 1, `${what} needs a leading batch axis (Scan-8), got a scalar`);
    }
    const batch = xs[0].dims[0];
    check(
      xs[0].dims.length >= 2,
      () => `scan input 0 needs dims [batch, sequence, ...], got [${xs[0].dims.join(', ')}]`,
    );
    const maxLen = xs[0].dims[1];
    for (const [j, x] of xs.entries()) {
      if (x.dims.length < 2 || x.dims[0] !== batch || x.dims[1] !== maxLen) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `scan input ${j} has dims [${x.dims.join(', ')}], expected [${batch}, ${maxLen}, ...] like scan input 0`,
        );
      }
    }
    for (const [i, s] of states.entries()) {
      if (s.dims[0] !== batch) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `initial state ${i} has batch size ${s.dims[0]}, the scan inputs have ${batch}`,
        );
      }
    }
    let lens: number[] = new Array<number>(batch).fill(maxLen);
    if (inputs[0] !== undefined) {
      const t = tensorInput(inputs[0], 'sequence_lens');
      lens = intsOf(t, 'sequence_lens');
      check(
        lens.length === batch,
        () => `sequence_lens has ${lens.length} entries, expected one per batch (${batch})`,
      );
      for (const l of lens) {
        if (l < 0 || l > maxLen) {
          throw new OnyxError('INVALID_ARGUMENT', `sequence_lens entry ${l} is outside [0, ${maxLen}]`);
        }
      }
    }
    const finalStates: Tensor[][] = Array.from({ length: plan.nStates }, () => []);
    const scanOuts: Tensor[][] = Array.from({ length: plan.nScanOut }, () => []);
    const perIterDims: (Dims | undefined)[] = new Array<Dims | undefined>(plan.nScanOut);
    const pending: { b: number; scans: Tensor[][] }[] = [];
    for (let b = 0; b < batch; b++) {
      const sb = states.map((s) => sliceAxis(s, 0, b, 1, true, alloc));
      const xb = xs.map((x) => sliceAxis(x, 0, b, 1, true, alloc));
      const run = await runScan(plan, sb, xb, lens[b], ctx);
      run.states.forEach((v, i) => finalStates[i].push(tensorInput(v, `Scan body state output ${i}`)));
      run.scans.forEach((list, k) => {
        if (list.length > 0) perIterDims[k] ??= list[0].dims;
      });
      pending.push({ b, scans: run.scans });
    }
    for (const { scans } of pending) {
      scans.forEach((list, k) => {
        const info = plan.body.outputs[plan.nStates + k];
        let dims = perIterDims[k];
        let type: TensorType | undefined = list[0]?.type;
        if (!dims || !type) {
          const empty = emptyScanOutput(info, 0, alloc);
          dims = empty.dims.slice(1);
          type = empty.type;
        }
        // Shorter sequences are padded with zeros up to the longest one.
        const padded = list.slice();
        while (padded.length < maxLen) padded.push(alloc(type, dims));
        scanOuts[k].push(
          padded.length === 0 ? alloc(type, [0, ...dims]) : stackScanOutput(padded, 0, k, 'Scan', alloc),
        );
      });
    }
    if (batch === 0) {
      const empties = plan.body.outputs.slice(plan.nStates).map((info) => {
        const e = emptyScanOutput(info, 0, alloc);
        return alloc(e.type, [0, maxLen, ...e.dims.slice(1)]);
      });
      return [...states, ...empties];
    }
    const outStates = finalStates.map((list) => stackAxis(list, 0, alloc));
    const outScans = scanOuts.map((list) => stackAxis(list, 0, alloc));
    return [...outStates, ...outScans];
  };
}

export const ops: OpDef[] = [ifOp, loopOp, scanOp];
