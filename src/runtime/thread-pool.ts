/**
 * Intra-op parallelism: a pool of N−1 workers plus the calling thread, all running one compiled
 * WebAssembly module on one shared `WebAssembly.Memory` (the allocator's, so tensors, packed weights
 * and workspaces are the same bytes everywhere). The pool knows no op: `parallelFor` calls one export
 * over chunks of a 1-D range, writing each chunk's bounds and the thread's own workspace into the
 * argument list; kernels (ep/cpu/wasm/parallel-gemm.ts) decide what the range is.
 *
 * Dispatch is synchronous and low-latency. The job lives in a SharedArrayBuffer control block; the
 * caller bumps a sequence number and wakes the workers with one `Atomics.notify`, then takes chunks
 * itself from the same atomic counter (dynamic scheduling: a worker that wakes late or shares its
 * core with another process simply takes fewer chunks), then waits for the last worker to finish.
 * Workers never return to their event loop between jobs.
 *
 * A worker takes part in a job only once it has claimed its invitation (its PART slot: the job's
 * sequence number, which it swaps for the number's negation). When the caller has run out of chunks
 * it withdraws every invitation not yet claimed and waits only for the workers that claimed theirs:
 * a worker that the OS has descheduled (on this 2-core machine ~5% of a GPT step's jobs started
 * ~1 ms late) then costs the caller its share of the chunks, not the wait for it to be scheduled.
 *
 * Both sides spin briefly before they block, as onnxruntime's intra-op pool does by default
 * (`allow_spinning`): a worker polls the sequence number for SPIN_MS after a job, and the caller
 * polls the pending count for as long before it sleeps. A thread woken from `Atomics.wait` here
 * starts 60–250 µs later (an idle virtual CPU sleeps deeply); ResNet-50 at 2 threads dispatches 54
 * jobs per run, and lost ~8 ms of worker start and ~10 ms of caller wake-up per run to it (measured).
 * A model's next job usually comes within a millisecond; between runs the workers sleep.
 *
 * Failure never hangs: an exception inside a worker (a WebAssembly trap) is caught there and comes
 * back as an `OnyxError` on the calling thread, and the pool stays usable; a worker that dies (its
 * exit hook flags it in the control block, or its exit event was seen between runs) fails the call
 * and breaks the pool, and as a last resort every wait has a generous deadline.
 *
 * Starting workers and the blocking wait sit behind a `ThreadHost` (platform/node-worker.ts for
 * Node's worker_threads). Workers start at the pool's first job, in the background: a job uses the
 * workers that are ready, so neither creating a pool nor its first job waits for them.
 */
import { OnyxError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { isNode, loadNodeBuiltins } from '../platform/node-builtins.js';
import { nodeThreadHost } from '../platform/node-worker.js';
import type { WasmMemoryAllocator } from './wasm-allocator.js';

/** A started worker, as the pool sees it. */
export interface WorkerHandle {
  /** Called once when the worker stops for any reason (event-loop delivered). */
  onExit(listener: (reason: string) => void): void;
  /** Stops the worker; resolves once it has stopped. */
  terminate(): Promise<void>;
}

/**
 * What a platform provides for threads. `source` is the text of a JavaScript function expression
 * `(init, onExit) => void`: the host runs it in a new worker with `init` (structured-cloned: it holds
 * a WebAssembly.Module, a shared Memory and a SharedArrayBuffer) and `onExit(cb)`, which registers
 * `cb` to run on the worker's own thread when it is exiting.
 *
 * TODO(browser): a Web Worker host (a Blob URL of the wrapped source, `postMessage(init)`) needs
 * cross-origin isolation for SharedArrayBuffer, and the page's main thread may not `Atomics.wait`:
 * it must run the pool from a worker, or dispatch with `Atomics.waitAsync` (kernels may return a
 * Promise). Until then `loadThreadHost` reports NOT_IMPLEMENTED outside Node.
 */
export interface ThreadHost {
  /** Logical processors available to this process. */
  availableParallelism(): number;
  startWorker(source: string, init: unknown): WorkerHandle;
  /** Atomics.wait where the calling thread may block. */
  wait(ctl: Int32Array, index: number, value: number, timeoutMs: number): 'ok' | 'not-equal' | 'timed-out';
}

/** The platform's thread host: worker_threads under Node; throws NOT_IMPLEMENTED elsewhere. */
export async function loadThreadHost(): Promise<ThreadHost> {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') {
    throw new OnyxError(
      'NOT_IMPLEMENTED',
      'threads need SharedArrayBuffer and Atomics, which this engine lacks',
    );
  }
  if (isNode()) {
    await loadNodeBuiltins();
    return nodeThreadHost;
  }
  throw new OnyxError(
    'NOT_IMPLEMENTED',
    'intra-op threads are implemented for Node.js worker_threads only; Web Workers are not supported yet',
  );
}

// Control block layout (Int32 indices). One job at a time; per-worker slots after the header.
const SEQ = 0; // job sequence number; workers wait on it
const NEXT = 1; // next chunk to take
const PENDING = 2; // participating workers not finished yet; the caller waits on it
const CMD = 3; // RUN or EXIT
const ERROR = 4; // 0, or 1 + index of the first worker that threw
const FN = 5; // index of the export in `exportNames`
const NARGS = 6;
const LO_SLOT = 7; // argument positions of the chunk bounds and the workspace pointer
const HI_SLOT = 8;
const WS_SLOT = 9;
const BEGIN = 10; // the range [BEGIN, END), split into CHUNKS chunks of whole GRAINs
const END = 11;
const GRAIN = 12;
const CHUNKS = 13;
const SLOTS = 16;
const SLOT_INTS = 4; // per worker: PART (its invitation: seq offered, -seq claimed, 0 none), DEAD, READY
const PART = 0;
const DEAD = 1;
const READY = 2;
const MAX_WORKERS = 256;
const ARGS_BYTE = (SLOTS + MAX_WORKERS * SLOT_INTS) * 4;
const MAX_ARGS = 32;
const MSG_BYTE = ARGS_BYTE + MAX_ARGS * 8;
const MSG_CHARS = 512;
const CONTROL_BYTES = MSG_BYTE + MSG_CHARS * 4;
const RUN = 0;
const EXIT = 1;
/** How long a worker (after a job) and the caller (for its workers) poll before they block. */
export const SPIN_MS = 1;

/**
 * The worker's program: instantiate, then loop on the control block. Plain JavaScript in a string
 * (not a stringified function) so no compiler or bundler helper can leak into it.
 */
const WORKER_SOURCE = `(init, onExit) => {
  const ctl = new Int32Array(init.control, 0, ${ARGS_BYTE / 4});
  const args = new Float64Array(init.control, ${ARGS_BYTE}, ${MAX_ARGS});
  const msg = new Int32Array(init.control, ${MSG_BYTE}, ${MSG_CHARS});
  const slot = ${SLOTS} + init.index * ${SLOT_INTS};
  onExit(() => {
    Atomics.store(ctl, slot + ${DEAD}, 1);
    Atomics.notify(ctl, ${PENDING});
  });
  const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
  const fns = init.exportNames.map((n) => instance.exports[n]);
  const a = [];
  let seen = Atomics.load(ctl, ${SEQ});
  Atomics.store(ctl, slot + ${READY}, 1);
  for (;;) {
    // Poll for the next job a while (reading the clock every 1024 polls) before blocking.
    for (let i = 1, t0 = performance.now(); Atomics.load(ctl, ${SEQ}) === seen; i++) {
      if ((i & 1023) === 0 && performance.now() - t0 > ${SPIN_MS}) break;
    }
    Atomics.wait(ctl, ${SEQ}, seen);
    const seq = Atomics.load(ctl, ${SEQ});
    if (seq === seen) continue;
    seen = seq;
    if (Atomics.load(ctl, ${CMD}) === ${EXIT}) return;
    if (Atomics.compareExchange(ctl, slot + ${PART}, seq, -seq) !== seq) continue;
    try {
      const fn = fns[ctl[${FN}]];
      const n = ctl[${NARGS}];
      a.length = n;
      for (let i = 0; i < n; i++) a[i] = args[i];
      a[ctl[${WS_SLOT}]] = init.workspace;
      const begin = ctl[${BEGIN}], end = ctl[${END}], grain = ctl[${GRAIN}], chunks = ctl[${CHUNKS}];
      const units = Math.ceil((end - begin) / grain);
      for (let c = Atomics.add(ctl, ${NEXT}, 1); c < chunks; c = Atomics.add(ctl, ${NEXT}, 1)) {
        a[ctl[${LO_SLOT}]] = Math.min(end, begin + Math.floor((c * units) / chunks) * grain);
        a[ctl[${HI_SLOT}]] = Math.min(end, begin + Math.floor(((c + 1) * units) / chunks) * grain);
        fn.apply(null, a);
      }
    } catch (e) {
      if (Atomics.compareExchange(ctl, ${ERROR}, 0, init.index + 1) === 0) {
        const text = String((e && e.message) || e);
        const len = Math.min(text.length, ${MSG_CHARS - 1});
        for (let i = 0; i < len; i++) msg[i] = text.charCodeAt(i);
        msg[len] = 0;
      }
    }
    if (Atomics.sub(ctl, ${PENDING}, 1) === 1) Atomics.notify(ctl, ${PENDING});
  }
}`;

let current: ThreadPool | undefined;

/**
 * Makes `pool` the current pool and returns the one it replaces, which the caller must restore with
 * `leaveThreadPool` (in a `finally`). The executor makes the session's pool current around each
 * kernel, so that kernels deep in shared helpers (elementwise, row-wise) can split their work
 * without every op threading the pool through, as storage leases do.
 */
export function enterThreadPool(pool: ThreadPool | undefined): ThreadPool | undefined {
  const previous = current;
  current = pool;
  return previous;
}

/** Restores the pool `enterThreadPool` replaced. */
export function leaveThreadPool(previous: ThreadPool | undefined): void {
  current = previous;
}

/** The pool of the kernel running now (see `enterThreadPool`), if its session has one. */
export function currentThreadPool(): ThreadPool | undefined {
  return current;
}

export interface ThreadPoolOptions {
  /** Threads in all, the caller included (≥ 1; 1 starts no worker). */
  threads: number;
  /** The module every thread instantiates; it must import its memory as `env.memory`. */
  module: WebAssembly.Module;
  /** Owner of the shared memory; each thread's workspace is allocated from it. */
  allocator: WasmMemoryAllocator;
  /** Exports that `parallelFor` may call. */
  exportNames: readonly string[];
  /** Bytes of each thread's private workspace (16-byte aligned). */
  workspaceBytes: number;
  host: ThreadHost;
  /** Longest a job may wait for its workers (default 60 s, plus 10 ms per MFLOP-ish `work` unit). */
  timeoutMs?: number;
}

/** A range split for `parallelFor`: [begin, end) in `chunks` pieces whose bounds are multiples of `grain`. */
export interface ParallelRange {
  begin: number;
  end: number;
  grain: number;
  chunks: number;
  /** Positions in `args` that receive a chunk's lower and upper bound. */
  loSlot: number;
  hiSlot: number;
  /** Position in `args` that receives the thread's workspace address. */
  wsSlot: number;
}

interface PoolWorker {
  handle: WorkerHandle;
  workspace: Tensor;
  /** Why it stopped, once its exit event was seen. */
  exited?: string;
}

export class ThreadPool {
  /** Threads in all, the caller included. */
  readonly size: number;
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly msg: Int32Array;
  private readonly fns: ((...a: number[]) => void)[];
  private readonly workers: PoolWorker[] = [];
  private readonly callerWorkspace: Tensor;
  private readonly host: ThreadHost;
  private readonly timeoutMs: number;
  private readonly allocator: WasmMemoryAllocator;
  private broken: OnyxError | undefined;
  /** Starts the workers; set until the first job (see `start`). */
  private unstarted: (() => void) | undefined;
  private closed = false;
  /** Holders that will `release()` the pool (sessions sharing it); the creator is the first. */
  private holders = 1;

  constructor(options: ThreadPoolOptions) {
    const { threads, module, allocator, exportNames, workspaceBytes, host } = options;
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WORKERS + 1) {
      throw new OnyxError(
        'INVALID_ARGUMENT',
        `thread count must be an integer in [1, ${MAX_WORKERS + 1}], got ${threads}`,
      );
    }
    this.size = threads;
    this.host = host;
    this.allocator = allocator;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    this.ctl = new Int32Array(control, 0, ARGS_BYTE / 4);
    this.args = new Float64Array(control, ARGS_BYTE, MAX_ARGS);
    this.msg = new Int32Array(control, MSG_BYTE, MSG_CHARS);
    const memory = allocator.memory;
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    this.fns = exportNames.map((n) => {
      const f = instance.exports[n];
      if (typeof f !== 'function') throw new OnyxError('INVALID_ARGUMENT', `the module has no export '${n}'`);
      return f as (...a: number[]) => void;
    });
    const workspace = (): Tensor => allocator.alloc('float32', [Math.ceil(workspaceBytes / 4)]);
    this.callerWorkspace = workspace();
    this.unstarted = () => {
      for (let index = 0; index < threads - 1; index++) {
        const ws = workspace();
        const init = {
          module,
          memory,
          control,
          index,
          exportNames: [...exportNames],
          workspace: (ws.data as Float32Array).byteOffset,
        };
        const w: PoolWorker = { handle: host.startWorker(WORKER_SOURCE, init), workspace: ws };
        w.handle.onExit((reason) => (w.exited = reason));
        this.workers.push(w);
      }
    };
  }

  /**
   * Starts the workers, once. Not at creation but at the first job (or the first `readyWorkers`,
   * which every job asks first): a worker's bootstrap takes its core for tens of milliseconds, and
   * while a session loads, V8's background compilers need it — on 2 cores, starting them at creation
   * made loading a model ~45 ms slower (measured). Throws, breaking the pool, if one cannot start.
   */
  private start(): void {
    const start = this.unstarted;
    if (!start) return;
    this.unstarted = undefined;
    try {
      start();
    } catch (e) {
      this.broken = new OnyxError(
        'RUNTIME_ERROR',
        `thread pool failed: a worker could not start (${String(e)}); use intraOpNumThreads: 1`,
        {},
        { cause: e },
      );
      void this.close();
      throw this.broken;
    }
  }

  /** Workers that have started and can take part in a job now (starting them, the first time). */
  get readyWorkers(): number {
    if (this.broken) throw this.broken;
    this.start();
    let n = 0;
    for (let i = 0; i < this.workers.length; i++) if (this.usable(i)) n++;
    return n;
  }

  /**
   * Calls export `fn` once per chunk of `range`, on this thread and every ready worker, and returns
   * when all chunks are done. `args` are the export's arguments; the slots named by `range` are
   * overwritten per chunk and per thread. `work` (any unit, e.g. MFLOP) stretches the deadline.
   */
  parallelFor(fn: number, args: readonly number[], range: ParallelRange, work = 0): void {
    if (this.broken) throw this.broken;
    if (this.closed) throw new OnyxError('RUNTIME_ERROR', 'the thread pool was closed');
    if (args.length > MAX_ARGS) throw new OnyxError('INVALID_ARGUMENT', `at most ${MAX_ARGS} arguments`);
    this.start();
    const { ctl } = this;
    const dead = this.deadWorker();
    if (dead >= 0) this.fail(dead, '');
    // Positive and never 0, so that an invitation (seq), its claim (-seq) and none (0) differ.
    const seq = (ctl[SEQ] & 0x3fffffff) + 1;
    let participants = 0;
    for (let i = 0; i < this.workers.length; i++) {
      if (!this.usable(i)) continue;
      ctl[SLOTS + i * SLOT_INTS + PART] = seq;
      participants++;
    }
    for (let i = 0; i < args.length; i++) this.args[i] = args[i];
    ctl[FN] = fn;
    ctl[NARGS] = args.length;
    ctl[LO_SLOT] = range.loSlot;
    ctl[HI_SLOT] = range.hiSlot;
    ctl[WS_SLOT] = range.wsSlot;
    ctl[BEGIN] = range.begin;
    ctl[END] = range.end;
    ctl[GRAIN] = Math.max(1, range.grain);
    ctl[CHUNKS] = Math.max(1, range.chunks);
    ctl[ERROR] = 0;
    ctl[CMD] = RUN;
    Atomics.store(ctl, NEXT, 0);
    Atomics.store(ctl, PENDING, participants);
    Atomics.store(ctl, SEQ, seq); // publishes everything written above
    if (participants > 0) Atomics.notify(ctl, SEQ);

    const a = [...args];
    a[range.wsSlot] = (this.callerWorkspace.data as Float32Array).byteOffset;
    const f = this.fns[fn];
    const grain = ctl[GRAIN];
    const chunks = ctl[CHUNKS];
    const units = Math.ceil((range.end - range.begin) / grain);
    let callerError: unknown;
    try {
      for (let c = Atomics.add(ctl, NEXT, 1); c < chunks; c = Atomics.add(ctl, NEXT, 1)) {
        a[range.loSlot] = Math.min(range.end, range.begin + Math.floor((c * units) / chunks) * grain);
        a[range.hiSlot] = Math.min(range.end, range.begin + Math.floor(((c + 1) * units) / chunks) * grain);
        f(...a);
      }
    } catch (e) {
      // Still wait for the workers: they may be writing into memory the caller is about to reuse.
      callerError = e;
    }
    if (participants > 0) {
      // Every chunk is taken: a worker that has not claimed its invitation yet has nothing to do.
      for (let i = 0; i < this.workers.length; i++) {
        if (Atomics.compareExchange(ctl, SLOTS + i * SLOT_INTS + PART, seq, 0) === seq)
          Atomics.sub(ctl, PENDING, 1);
      }
      this.awaitWorkers(this.timeoutMs + work * 10);
    }
    if (callerError !== undefined) {
      throw new OnyxError(
        'RUNTIME_ERROR',
        `parallel kernel failed: ${String(callerError)}`,
        {},
        { cause: callerError },
      );
    }
    const failed = ctl[ERROR];
    if (failed !== 0) {
      let text = '';
      for (let i = 0; i < MSG_CHARS && this.msg[i] !== 0; i++) text += String.fromCharCode(this.msg[i]);
      throw new OnyxError('RUNTIME_ERROR', `parallel kernel failed in worker ${failed - 1}: ${text}`);
    }
  }

  /** True once closed (by `close`, the last `release`, or a failure): make a new pool then. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** One more holder, who must call `release()`. */
  retain(): this {
    this.holders++;
    return this;
  }

  /** A holder is done with the pool; the last one closes it. */
  async release(): Promise<void> {
    if (--this.holders <= 0) await this.close();
  }

  /** Stops the workers and returns their workspaces; idempotent. Later jobs throw. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const { ctl } = this;
    ctl[CMD] = EXIT;
    Atomics.store(ctl, SEQ, (ctl[SEQ] + 1) | 0);
    Atomics.notify(ctl, SEQ);
    await Promise.all(this.workers.map((w) => w.handle.terminate().catch(() => undefined)));
    // Only now can no worker touch its workspace any more.
    for (const w of this.workers) this.allocator.release(w.workspace);
    this.allocator.release(this.callerWorkspace);
  }

  private usable(i: number): boolean {
    return Atomics.load(this.ctl, SLOTS + i * SLOT_INTS + READY) === 1;
  }

  /** The index of a worker known to have stopped, or -1. */
  private deadWorker(): number {
    return this.workers.findIndex(
      (w, i) => w.exited !== undefined || Atomics.load(this.ctl, SLOTS + i * SLOT_INTS + DEAD) === 1,
    );
  }

  /** Breaks the pool (a worker stopped, or one is stuck: `dead` < 0) and throws why. */
  private fail(dead: number, stuck: string): never {
    const why =
      dead >= 0
        ? `worker ${dead} stopped${this.workers[dead].exited ? ` (${this.workers[dead].exited})` : ''}`
        : stuck;
    this.broken = new OnyxError(
      'RUNTIME_ERROR',
      `thread pool failed: ${why}; create the session again, or use intraOpNumThreads: 1`,
    );
    void this.close();
    throw this.broken;
  }

  /**
   * Blocks until every participating worker has finished. A worker that died mid-job (its exit hook
   * set DEAD and woke us) or a job past its deadline breaks the pool: its chunks may be half done.
   */
  private awaitWorkers(timeoutMs: number): void {
    const { ctl } = this;
    const start = performance.now();
    const deadline = start + timeoutMs;
    for (let i = 1; Atomics.load(ctl, PENDING) !== 0; i++) {
      if ((i & 1023) === 0 && performance.now() - start > SPIN_MS) break;
    }
    for (;;) {
      const pending = Atomics.load(ctl, PENDING);
      if (pending === 0) return;
      const dead = this.deadWorker();
      const left = deadline - performance.now();
      if (dead >= 0 || left <= 0) {
        this.fail(dead, `${pending} worker(s) did not finish within ${Math.round(timeoutMs)} ms`);
      }
      this.host.wait(ctl, PENDING, pending, Math.min(left, 1000));
    }
  }
}
