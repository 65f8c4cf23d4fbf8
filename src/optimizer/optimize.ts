/**
 * The graph optimizer entry point, with onnxruntime's level names. Passes land here as they are
 * written; each is a function over the IR that can be switched off and tested alone.
 */
import type { Model } from '../ir/graph.js';

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export function optimizeModel(_model: Model, _level: OptimizationLevel): void {}
