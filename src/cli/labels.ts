/**
 * Class names for `onyx classify`: the bundled ImageNet-1k list, or a user's file in one of the three
 * shapes label files come in — a JSON array, a JSON object of index → name (Keras' imagenet_class_index
 * style `{"0": ["n01440764", "tench"]}` included), or plain text with one label per line.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from './exit-codes.js';

/** data/imagenet-labels.json, written by scripts/gen_imagenet_labels.py (same path from src/ and dist/). */
export const IMAGENET_LABELS = fileURLToPath(new URL('../../data/imagenet-labels.json', import.meta.url));

export function readLabels(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read labels file ${path}: ${(e as Error).message}`);
  }
  return parseLabels(text, path);
}

export function parseLabels(text: string, what: string): string[] {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) {
    const lines = trimmed.split(/\r?\n/).map((l) => l.trim());
    if (!lines.length || lines.every((l) => !l)) throw new UsageError(`labels file ${what} is empty`);
    return lines;
  }
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch (e) {
    throw new UsageError(`labels file ${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (Array.isArray(json)) return json.map((v, i) => labelText(v, `${what}[${i}]`));
  const entries = Object.entries(json as Record<string, unknown>);
  const labels: string[] = new Array<string>(entries.length);
  for (const [key, value] of entries) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= entries.length) {
      throw new UsageError(
        `labels file ${what}: key '${key}' is not a class index 0..${entries.length - 1} (an object must map every index to a name)`,
      );
    }
    labels[i] = labelText(value, `${what}["${key}"]`);
  }
  return labels;
}

function labelText(v: unknown, where: string): string {
  if (typeof v === 'string') return v;
  // ["n01440764", "tench"]: a synset id with its name; show the name.
  if (Array.isArray(v) && v.length && typeof v[v.length - 1] === 'string') return v[v.length - 1] as string;
  throw new UsageError(`labels file entry ${where} is ${JSON.stringify(v)}, not a name`);
}

/** Checks that a labels list fits the model's output; a mismatch means the wrong file or the wrong model. */
export function checkLabelCount(labels: readonly string[], classes: number, source: string): void {
  if (labels.length !== classes) {
    throw new UsageError(
      `labels file ${source} has ${labels.length} labels but the model outputs ${classes} classes; ` +
        `pass the labels the model was trained with (--labels FILE)`,
    );
  }
}
