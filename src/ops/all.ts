/**
 * The default op registry: every op family module registers its OpDefs here.
 */
import { OpRegistry } from './registry.js';
import type { OpDef } from './kernel.js';
import { ops as placeholder } from './identity.js';

const families: readonly (readonly OpDef[])[] = [placeholder];

export const defaultRegistry = new OpRegistry();
for (const family of families) defaultRegistry.register(...family);
