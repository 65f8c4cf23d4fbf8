/** The WebAssembly kernels, one module: GEMM (with im2col packing) and depthwise convolution. */
export * from './gemm';
export * from './depthwise';
