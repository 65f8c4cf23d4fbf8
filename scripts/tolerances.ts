/**
 * The one table of per-case tolerance exceptions for the conformance runner, each with its reason.
 * Everything not listed uses ONNX's default (rtol 1e-3, atol 1e-7).
 */
import { DEFAULT_TOLERANCE, type Tolerance } from '../src/cli/compare.js';

const EXCEPTIONS: { pattern: RegExp; tolerance: Tolerance; reason: string }[] = [];

export function toleranceFor(caseName: string): Tolerance {
  return EXCEPTIONS.find((e) => e.pattern.test(caseName))?.tolerance ?? DEFAULT_TOLERANCE;
}

export function toleranceTable(): { pattern: string; tolerance: Tolerance; reason: string }[] {
  return EXCEPTIONS.map((e) => ({ ...e, pattern: e.pattern.source }));
}
