import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import asc from 'assemblyscript/asc';
import { OnyxError } from '../core/errors.js';
import { nodeThreadHost } from '../platform/node-worker.js';
import { ThreadPool, type ThreadHost, type WorkerHandle } from './thread-pool.js';
import { WasmMemoryAllocator } from './wasm-allocator.js';

/**
 * A test module on an imported shared memory: `fill(lo, hi, ws, out, mode, sync)` writes i + 1 to
 * out[i] for i in [lo, hi). With mode ≠ 0 a chunk first meets a second one (a counter at `sync`,
 * waiting up to 5 s), so that two threads take one chunk each; then the second to arrive traps
 * (mode 1), waits 10 s like a stuck worker (mode 2), or goes on (mode 3).
 */
const SOURCE = `
export function fill(lo: i32, hi: i32, ws: usize, out: usize, mode: i32, sync: usize): void {
  if (mode != 0) {
    const order = atomic.add<i32>(sync, 1);
    for (let n = 0; n < 5000 && atomic.load<i32>(sync) < 2; n++) atomic.wait<i32>(sync + 4, 0, 1000000);
    if (order == 1 && mode == 1) unreachable();
    if (order == 1 && mode == 2) atomic.wait<i32>(sync + 8, 0, 10000000000);
  }
  for (let i = lo; i < hi; i++) store<i32>(out + (<usize>i << 2), i + 1);
}`;

async function testModule(): Promise<WebAssembly.Module> {
  const { binary, stderr } = await asc.compileString(SOURCE, {
    optimizeLevel: 2,
    runtime: 'stub',
    importMemory: true,
    sharedMemory: true,
    initialMemory: 1,
    maximumMemory: 65536,
    enable: ['threads'],
    use: ['abort='],
  } as Parameters<typeof asc.compileString>[1]);
  if (!binary) throw new Error(stderr.toString());
  return new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>);
}

const modulePromise = testModule();

/** A node host that remembers its workers, so a test can kill one. */
function recordingHost(): { host: ThreadHost; handles: WorkerHandle[] } {
  const handles: WorkerHandle[] = [];
  const host: ThreadHost = {
    ...nodeThreadHost,
    startWorker(source, init) {
      const h = nodeThreadHost.startWorker(source, init);
      handles.push(h);
      return h;
    },
  };
  return { host, handles };
}

async function makePool(threads: number, host: ThreadHost = nodeThreadHost, timeoutMs?: number) {
  const allocator = new WasmMemoryAllocator();
  const pool = new ThreadPool({
    threads,
    module: await modulePromise,
    allocator,
    exportNames: ['fill'],
    workspaceBytes: 64,
    host,
    timeoutMs,
  });
  const deadline = Date.now() + 20_000;
  while (pool.readyWorkers < threads - 1) {
    if (Date.now() > deadline) throw new Error('workers did not start');
    await new Promise((r) => setTimeout(r, 2));
  }
  const out = allocator.alloc('int32', [1000]).data as Int32Array;
  const sync = allocator.alloc('int32', [4]).data as Int32Array;
  const run = (mode: number, n = out.length, chunks = threads) => {
    out.fill(0);
    sync.fill(0);
    pool.parallelFor(0, [0, 0, 0, out.byteOffset, mode, sync.byteOffset], {
      begin: 0,
      end: n,
      grain: 3,
      chunks,
      loSlot: 0,
      hiSlot: 1,
      wsSlot: 2,
    });
  };
  return { pool, out, run };
}

describe('ThreadPool', () => {
  it('starts its workers at the first job, not at creation; a worker that cannot start breaks it', async () => {
    const started: number[] = [];
    const failing: ThreadHost = {
      ...nodeThreadHost,
      startWorker() {
        started.push(started.length);
        throw new Error('no threads here');
      },
    };
    const pool = new ThreadPool({
      threads: 3,
      module: await modulePromise,
      allocator: new WasmMemoryAllocator(),
      exportNames: ['fill'],
      workspaceBytes: 64,
      host: failing,
    });
    assert.deepEqual(started, [], 'creating the pool starts no worker');
    const broken = (e: unknown) =>
      e instanceof OnyxError && /a worker could not start \(Error: no threads here\)/.test(e.message);
    assert.throws(() => pool.readyWorkers, broken);
    assert.deepEqual(started, [0], 'tried once');
    assert.throws(
      () =>
        pool.parallelFor(0, [0, 0, 0], {
          begin: 0,
          end: 1,
          grain: 1,
          chunks: 1,
          loSlot: 0,
          hiSlot: 1,
          wsSlot: 2,
        }),
      broken,
    );
    assert.equal(pool.isClosed, true);
  });

  for (const threads of [1, 2, 3]) {
    it(`covers the range exactly once with ${threads} thread(s), any chunking`, async () => {
      const { pool, out, run } = await makePool(threads);
      try {
        for (const [n, chunks] of [
          [1000, threads],
          [1000, 7],
          [999, 64],
          [5, 4],
          [1, 3],
        ]) {
          run(0, n, chunks);
          for (let i = 0; i < out.length; i++)
            assert.equal(out[i], i < n ? i + 1 : 0, `n=${n} chunks=${chunks} i=${i}`);
        }
      } finally {
        await pool.close();
      }
    });
  }

  it('takes one chunk per thread when chunks meet (both threads really run)', async () => {
    const { pool, out, run } = await makePool(2);
    try {
      const t0 = Date.now();
      run(3);
      assert.equal(out[999], 1000);
      // Alone, the caller would have waited 5 s in the first chunk for a second arrival.
      assert.ok(Date.now() - t0 < 4000, 'the worker took the second chunk');
    } finally {
      await pool.close();
    }
  });

  it('does not wait for a worker that has not claimed its part (descheduled), and it rejoins', async () => {
    // The worker's program runs with an Atomics whose first blocking wait sleeps 1.5 s without
    // listening: a worker that becomes ready, spins, blocks, and then misses its wake-up, as one that
    // the OS has descheduled does.
    const late: ThreadHost = {
      ...nodeThreadHost,
      startWorker: (source, init) =>
        nodeThreadHost.startWorker(
          `(() => {
            let late = true;
            const lateAtomics = Object.assign(Object.create(Atomics), {
              wait(...a) {
                if (late) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
                late = false;
                return Atomics.wait(...a);
              },
            });
            return ((Atomics) => (${source}))(lateAtomics);
          })()`,
          init,
        ),
    };
    const { pool, out, run } = await makePool(2, late);
    try {
      await new Promise((r) => setTimeout(r, 50)); // the worker's spin is over: it sleeps
      const t0 = Date.now();
      run(0, 1000, 8);
      assert.ok(Date.now() - t0 < 1000, `the caller took every chunk at once (${Date.now() - t0} ms)`);
      for (let i = 0; i < out.length; i++) assert.equal(out[i], i + 1);
      await new Promise((r) => setTimeout(r, 1600)); // the worker wakes, finds its part withdrawn
      run(3); // two chunks that must meet: the worker takes part again
      assert.equal(out[999], 1000);
    } finally {
      await pool.close();
    }
  });

  it('reports a trap in any thread as an OnyxError and stays usable', async () => {
    const { pool, out, run } = await makePool(2);
    try {
      assert.throws(
        () => run(1),
        (e: unknown) => e instanceof OnyxError && e.code === 'RUNTIME_ERROR' && /unreachable/.test(e.message),
      );
      run(0);
      assert.equal(out[999], 1000);
    } finally {
      await pool.close();
    }
  });

  it('fails a job whose worker died instead of hanging, and stays failed', async () => {
    const { host, handles } = recordingHost();
    const { pool, run } = await makePool(2, host);
    await handles[0].terminate(); // a crash, as the pool sees it: the worker is gone
    assert.throws(
      () => run(0),
      (e: unknown) => e instanceof OnyxError && /worker 0 stopped/.test(e.message),
    );
    assert.throws(() => run(0), /thread pool failed/);
    await pool.close();
  });

  it('gives up on a stuck worker after its deadline', async () => {
    const { pool, run } = await makePool(2, nodeThreadHost, 300);
    const t0 = Date.now();
    assert.throws(
      () => run(2),
      (e: unknown) => e instanceof OnyxError && /did not finish within 300 ms/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 5000, 'the deadline, not the stuck worker, ended the wait');
    await pool.close(); // terminates the stuck worker
  });

  it('rejects jobs after close', async () => {
    const { pool, run } = await makePool(2);
    await pool.close();
    assert.throws(() => run(0), /closed/);
  });

  it('never keeps the process alive, closed or not', () => {
    for (const close of [true, false]) {
      const script = `
        import { createGemmThreadPool, parallelSgemm } from './src/ep/cpu/wasm/parallel-gemm.ts';
        import { nodeThreadHost } from './src/platform/node-worker.ts';
        const pool = createGemmThreadPool(3, nodeThreadHost);
        while (pool.readyWorkers < 2) await new Promise((r) => setTimeout(r, 2));
        const n = 200, a = new Float32Array(n * n).fill(1), c = new Float32Array(n * n);
        parallelSgemm(pool, false, false, n, n, n, 1, a, 0, n, a, 0, n, 0, c, 0, n);
        if (c[n * n - 1] !== n) throw new Error('wrong product');
        ${close ? 'await pool.close();' : ''}
        console.log('done');`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(
        r.signal,
        null,
        `the process ${close ? 'with' : 'without'} close() did not exit by itself`,
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /done/);
    }
  });
});
