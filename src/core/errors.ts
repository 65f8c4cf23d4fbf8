/**
 * Onyx's one error type. Every failure a user can cause (a broken model, a bad feed, an unsupported
 * op) is an `OnyxError` with a stable `code` that scripts can switch on, and a message that names
 * what a person needs to fix it: the node, op, opset, dtype and shape involved.
 */

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_MODEL'
  | 'INVALID_PROTOBUF'
  | 'UNSAFE_PATH'
  | 'FILE_NOT_FOUND'
  | 'NOT_IMPLEMENTED'
  | 'UNSUPPORTED_OP'
  | 'INVALID_FEED'
  | 'SHAPE_MISMATCH'
  | 'TYPE_MISMATCH'
  | 'LIMIT_EXCEEDED'
  | 'RUNTIME_ERROR'
  | 'INVALID_IMAGE';

export interface NodeContext {
  node?: string;
  opType?: string;
  domain?: string;
  opset?: number;
}

export class OnyxError extends Error {
  readonly code: ErrorCode;
  readonly context: NodeContext;
  /** Machine-readable specifics, e.g. the list of unsupported ops for UNSUPPORTED_OP. */
  readonly details: readonly string[];

  constructor(
    code: ErrorCode,
    message: string,
    context: NodeContext = {},
    options?: { cause?: unknown; details?: readonly string[] },
  ) {
    super(withContext(message, context), options);
    this.name = 'OnyxError';
    this.code = code;
    this.context = context;
    this.details = options?.details ?? [];
  }
}

function withContext(message: string, ctx: NodeContext): string {
  if (!ctx.node && !ctx.opType) return message;
  const domain = ctx.domain ? `${ctx.domain}.` : '';
  const opset = ctx.opset !== undefined ? `-${ctx.opset}` : '';
  return `node '${ctx.node ?? '?'}' (${domain}${ctx.opType ?? '?'}${opset}): ${message}`;
}

/** Throws an `OnyxError` with code INVALID_MODEL unless `cond` holds; used by kernels for spec checks. */
export function check(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new OnyxError('INVALID_MODEL', typeof message === 'string' ? message : message());
}
