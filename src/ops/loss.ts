import type { OpDef } from './kernel.js';

export const ops: OpDef[] = [];
