/** Types for the one image codec package that ships none (an Emscripten CommonJS factory). */
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: unknown;
  export default factory;
}
