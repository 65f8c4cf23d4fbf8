/**
 * The versioned op registry: (domain, opType) → implementations keyed by since-version. Lookup for a
 * model opset picks the largest since-version ≤ that opset, as onnxruntime does.
 */
import { OnyxError } from '../core/errors.js';
import type { OpDef } from './kernel.js';

export interface Resolved {
  def: OpDef;
  sinceVersion: number;
}

export class OpRegistry {
  private readonly ops = new Map<string, { version: number; def: OpDef }[]>();

  static key(domain: string, opType: string): string {
    return `${domain}::${opType}`;
  }

  register(...defs: OpDef[]): this {
    for (const def of defs) {
      const key = OpRegistry.key(def.domain ?? '', def.opType);
      const list = this.ops.get(key) ?? [];
      for (const version of def.versions) {
        if (list.some((e) => e.version === version)) {
          throw new OnyxError('INVALID_ARGUMENT', `op ${key} since-version ${version} is registered twice`);
        }
        list.push({ version, def });
      }
      list.sort((a, b) => a.version - b.version);
      this.ops.set(key, list);
    }
    return this;
  }

  resolve(domain: string, opType: string, opset: number): Resolved | undefined {
    const list = this.ops.get(OpRegistry.key(domain, opType));
    if (!list) return undefined;
    let best: Resolved | undefined;
    for (const e of list) if (e.version <= opset) best = { def: e.def, sinceVersion: e.version };
    return best;
  }

  /** Every registered (domain, opType) with its since-versions, for reports. */
  entries(): { domain: string; opType: string; versions: number[] }[] {
    return [...this.ops].map(([key, list]) => {
      const [domain, opType] = key.split('::');
      return { domain, opType, versions: list.map((e) => e.version) };
    });
  }
}
