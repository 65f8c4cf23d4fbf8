/**
 * The one table of per-case tolerance exceptions for the conformance runner, each with its reason.
 * Everything not listed uses ONNX's default (rtol 1e-3, atol 1e-7).
 */
import { DEFAULT_TOLERANCE, type Tolerance } from '../src/cli/compare.js';

const EXCEPTIONS: { pattern: RegExp; tolerance: Tolerance; reason: string }[] = [
  {
    pattern: /^test_dft_inverse/,
    tolerance: { rtol: 1e-3, atol: 1e-6 },
    reason:
      'the expected data carries float32 FFT rounding noise around exact zeros (e.g. 1.9e-7); Onyx computes in float64, ' +
      'so it is closer to the true value but misses atol 1e-7. Worst element is at 0.19 of the loosened bound.',
  },
];

export function toleranceFor(caseName: string): Tolerance {
  return EXCEPTIONS.find((e) => e.pattern.test(caseName))?.tolerance ?? DEFAULT_TOLERANCE;
}

export function toleranceTable(): { pattern: string; tolerance: Tolerance; reason: string }[] {
  return EXCEPTIONS.map((e) => ({ ...e, pattern: e.pattern.source }));
}
