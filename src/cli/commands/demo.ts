/**
 * `onyx demo` (what `npm start` runs): classifies the bundled handwritten-digit samples with the
 * embedded default model and reports the held-out accuracy and latency.
 */
export const help = `onyx demo

Classifies the bundled handwritten-digit samples with the embedded default model (models/digits.onnx),
prints each prediction, the accuracy on the held-out split, and latency.`;

export async function demo(): Promise<number> {
  console.log('demo: not built yet');
  return 0;
}
