/** The WebAssembly kernels, one module: GEMM (with im2col packing), depthwise convolution, pooling. */
export * from './gemm';
export * from './depthwise';
export * from './pool';
export { WINDOW_FIELDS } from './window';
