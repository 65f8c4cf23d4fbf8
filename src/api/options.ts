/**
 * Session and run options, named as in onnxruntime-common so existing code type-checks unchanged.
 * Options Onyx does not implement yet are accepted and reported through the logger (never silently
 * ignored); options that would change results are errors.
 */
import type { ExecutionProvider } from '../ep/provider.js';
import type { OptimizationLevel } from '../optimizer/optimize.js';

export type ExecutionProviderConfig = string | { name: string; [key: string]: unknown } | ExecutionProvider;

export interface ExternalDataFile {
  path: string;
  data: Uint8Array | ArrayBuffer;
}

export interface SessionOptions {
  executionProviders?: readonly ExecutionProviderConfig[];
  graphOptimizationLevel?: OptimizationLevel;
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  executionMode?: 'sequential' | 'parallel';
  enableCpuMemArena?: boolean;
  enableMemPattern?: boolean;
  enableProfiling?: boolean;
  profileFilePrefix?: string;
  optimizedModelFilePath?: string;
  logId?: string;
  /** 0 verbose, 1 info, 2 warning (default), 3 error, 4 fatal. */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  logVerbosityLevel?: number;
  freeDimensionOverrides?: Readonly<Record<string, number>>;
  /** External data files for a model given as bytes (onnxruntime-web's form, or a name → bytes record). */
  externalData?: readonly ExternalDataFile[] | Readonly<Record<string, Uint8Array>>;
  extra?: Record<string, unknown>;
}

export interface RunOptions {
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  logVerbosityLevel?: number;
  tag?: string;
  terminate?: boolean;
  extra?: Record<string, unknown>;
}
