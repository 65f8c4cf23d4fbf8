/**
 * Global settings, shaped like onnxruntime-common's `env`, and the logger that options use to say
 * when something is not implemented yet.
 */
export const env = {
  logLevel: 'warning' as 'verbose' | 'info' | 'warning' | 'error' | 'fatal',
  debug: false,
  wasm: { numThreads: 0, simd: true as boolean, proxy: false },
  versions: { onyx: '0.1.0' },
};

const LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;

export type LogSink = (level: (typeof LEVELS)[number], message: string) => void;

let sink: LogSink = (level, message) => console.warn(`[onyx ${level}] ${message}`);

/** Routes Onyx's log lines somewhere else (tests, a UI); returns the previous sink. */
export function setLogSink(next: LogSink): LogSink {
  const prev = sink;
  sink = next;
  return prev;
}

export function log(severity: 0 | 1 | 2 | 3 | 4, threshold: number | undefined, message: string): void {
  const min = threshold ?? LEVELS.indexOf(env.logLevel);
  if (severity >= min) sink(LEVELS[severity], message);
}
