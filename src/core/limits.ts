/**
 * Explicit limits that protect the runtime from hostile or broken models and inputs. Each is checked
 * where data enters (loader, Tensor constructor, kernels that allocate from data-dependent sizes) and
 * exceeding it raises `OnyxError('LIMIT_EXCEEDED')` instead of exhausting memory or hanging.
 */

/** Largest rank a tensor may have (onnxruntime has no fixed limit; 64 is far beyond real models). */
export const MAX_RANK = 64;
/** Largest element count of one tensor: 2^31 - 1 elements fits every typed array length limit. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;
/** Deepest nesting of subgraphs (If/Loop/Scan bodies inside each other). */
export const MAX_GRAPH_NESTING = 64;
/** Deepest nesting of model-local function calls while inlining (guards against recursion). */
export const MAX_FUNCTION_DEPTH = 32;
/** Most iterations a Loop may run when its trip count and condition never stop it. */
export const MAX_LOOP_ITERATIONS = 100_000_000;
