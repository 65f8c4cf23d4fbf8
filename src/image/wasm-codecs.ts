/**
 * The WebAssembly image codecs, each a build of the C library that PIL itself links (so the pixels
 * match the ONNX reference bit for bit):
 *   - JPEG: libjpeg-turbo's decoder (MozJPEG build from @jsquash/jpeg): ISLOW IDCT and "fancy"
 *     (triangular) chroma upsampling, as the ImageDecoder spec prescribes;
 *   - WebP: libwebp (@jsquash/webp), lossy and lossless;
 *   - JPEG 2000: OpenJPEG (@cornerstonejs/codec-openjpeg), JP2 files and raw J2K codestreams.
 *
 * Modules load on first use (`loadWasmCodecs`), after which decoding is synchronous. Under Node the
 * .wasm bytes are read from node_modules; elsewhere each Emscripten glue locates its own binary (next
 * to its script, as bundlers arrange). A decode that fails inside the C code may leave the module's
 * heap in an unknown state, so that instance is dropped and a fresh one is loaded in the background.
 */
import { checkSize, invalid, type Pixels } from './pixels.js';

interface EmscriptenOptions {
  noInitialRun: boolean;
  print(text: string): void;
  printErr(text: string): void;
  instantiateWasm?(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void): unknown;
}
type Factory<M> = (options: EmscriptenOptions) => Promise<M>;

interface ImageDataLike {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}
interface JsquashModule {
  decode(data: Uint8Array, preserveOrientation?: boolean): ImageDataLike | null;
}
interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned: boolean;
}
interface J2KDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  readHeader(): void;
  decode(): void;
  getFrameInfo(): FrameInfo;
  delete(): void;
}
interface OpenJpegModule {
  J2KDecoder: new () => J2KDecoder;
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

class WasmCodec<M> {
  private instance: M | undefined;
  private loading: Promise<M> | undefined;
  private compiled: Promise<WebAssembly.Module | undefined> | undefined;
  /** What the C code printed during the current call (libjpeg warnings, OpenJPEG errors). */
  private messages: string[] = [];

  constructor(
    readonly name: string,
    private readonly glue: () => Promise<Factory<M>>,
    private readonly wasmFile: string,
  ) {}

  get ready(): M | undefined {
    return this.instance;
  }

  load(): Promise<M> {
    if (this.instance) return Promise.resolve(this.instance);
    this.loading ??= this.instantiate().then(
      (m) => {
        this.instance = m;
        this.loading = undefined;
        return m;
      },
      (e: unknown) => {
        this.loading = undefined;
        throw e;
      },
    );
    return this.loading;
  }

  private async instantiate(): Promise<M> {
    const factory = await this.glue();
    this.compiled ??= isNode
      ? import('../platform/node-assets.js').then((p) =>
          WebAssembly.compile(p.readPackageFile(this.wasmFile) as Uint8Array<ArrayBuffer>),
        )
      : Promise.resolve(undefined);
    const wasm = await this.compiled;
    const options: EmscriptenOptions = {
      noInitialRun: true,
      print: (text) => this.messages.push(text),
      printErr: (text) => this.messages.push(text),
    };
    if (wasm) {
      options.instantiateWasm = (imports, done) => {
        const instance = new WebAssembly.Instance(wasm, imports);
        done(instance);
        return instance.exports;
      };
    }
    return factory(options);
  }

  /**
   * Runs `fn` against the loaded module and returns its result with the messages the C code
   * printed. On an exception the instance is replaced (loaded again in the background).
   */
  call<T>(fn: (m: M) => T): { result: T; messages: string[] } {
    const m = this.instance;
    if (!m) throw new Error(`the ${this.name} codec is not loaded`);
    this.messages = [];
    try {
      return { result: fn(m), messages: this.messages };
    } catch (e) {
      const messages = this.messages;
      this.instance = undefined;
      void this.load().catch(() => {});
      throw Object.assign(new Error(detail(messages, e)), { cause: e });
    }
  }
}

/** The C library's own words when it printed any (they say more than "exit(1)"). */
function detail(messages: string[], e: unknown): string {
  const said = messages.filter((m) => !m.startsWith('[INFO]')).map((m) => m.replace(/^\[ERROR\]\s*/, ''));
  return said.length > 0 ? said.join('; ') : e instanceof Error ? e.message : String(e);
}

export const jpegCodec = new WasmCodec<JsquashModule>(
  'JPEG (libjpeg-turbo)',
  async () =>
    (await import('@jsquash/jpeg/codec/dec/mozjpeg_dec.js')).default as unknown as Factory<JsquashModule>,
  '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm',
);

export const webpCodec = new WasmCodec<JsquashModule>(
  'WebP (libwebp)',
  async () =>
    (await import('@jsquash/webp/codec/dec/webp_dec.js')).default as unknown as Factory<JsquashModule>,
  '@jsquash/webp/codec/dec/webp_dec.wasm',
);

export const jpeg2000Codec = new WasmCodec<OpenJpegModule>(
  'JPEG 2000 (OpenJPEG)',
  async () => {
    const m = (await import('@cornerstonejs/codec-openjpeg/decodewasmjs')) as { default: unknown };
    return m.default as Factory<OpenJpegModule>;
  },
  '@cornerstonejs/codec-openjpeg/decodewasm',
);

export type WasmFormat = 'jpeg' | 'webp' | 'jpeg2000';

const codecs: Record<WasmFormat, WasmCodec<unknown>> = {
  jpeg: jpegCodec,
  webp: webpCodec,
  jpeg2000: jpeg2000Codec,
};

/** Loads the codecs for `formats` (all by default); resolves once each can decode synchronously. */
export async function loadWasmCodecs(
  formats: readonly WasmFormat[] = ['jpeg', 'webp', 'jpeg2000'],
): Promise<void> {
  await Promise.all(formats.map((f) => codecs[f].load()));
}

export function wasmCodecReady(format: WasmFormat): boolean {
  return codecs[format].ready !== undefined;
}

function rgba(img: ImageDataLike): Pixels {
  const data = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return { width: img.width, height: img.height, channels: 4, data };
}

/** JPEG through libjpeg-turbo; the caller has checked the size from the SOF header. */
export function decodeJpegTurbo(bytes: Uint8Array, what: string): Pixels {
  let out: { result: ImageDataLike | null; messages: string[] };
  try {
    out = jpegCodec.call((m) => m.decode(bytes, false));
  } catch (e) {
    throw invalid(what, 'JPEG', (e as Error).message);
  }
  if (!out.result)
    throw invalid(what, 'JPEG', out.messages.join('; ') || 'libjpeg-turbo could not decode it');
  // libjpeg-turbo fills a cut-off scan with gray and only warns; PIL (and so ONNX) rejects the file.
  const truncated = out.messages.find((m) => /premature end/i.test(m));
  if (truncated) throw invalid(what, 'JPEG', `the file is truncated (${truncated})`);
  return rgba(out.result);
}

export function decodeWebpWasm(bytes: Uint8Array, what: string): Pixels {
  let out: { result: ImageDataLike | null; messages: string[] };
  try {
    out = webpCodec.call((m) => m.decode(bytes));
  } catch (e) {
    throw invalid(what, 'WebP', (e as Error).message);
  }
  if (!out.result) {
    throw invalid(what, 'WebP', 'libwebp could not decode it (damaged, truncated, or an animation)');
  }
  return rgba(out.result);
}

/** The image size from the SIZ marker that opens the codestream (also inside a JP2 file). */
function jpeg2000Size(b: Uint8Array, what: string): [number, number] {
  for (let p = 0; p + 23 < b.length; p++) {
    if (b[p] === 0xff && b[p + 1] === 0x4f && b[p + 2] === 0xff && b[p + 3] === 0x51) {
      const v = new DataView(b.buffer, b.byteOffset + p + 8, 16);
      return [v.getUint32(0) - v.getUint32(8), v.getUint32(4) - v.getUint32(12)];
    }
  }
  throw invalid(what, 'JPEG 2000', 'no codestream (SOC and SIZ markers) found');
}

export function decodeJpeg2000Wasm(bytes: Uint8Array, what: string): Pixels {
  const [w, h] = jpeg2000Size(bytes, what);
  checkSize(w, h, what);
  let frame: { info: FrameInfo; data: Uint8Array };
  try {
    frame = jpeg2000Codec.call((m) => {
      const decoder = new m.J2KDecoder();
      try {
        decoder.getEncodedBuffer(bytes.length).set(bytes);
        decoder.decode();
        return { info: decoder.getFrameInfo(), data: decoder.getDecodedBuffer().slice() };
      } finally {
        decoder.delete();
      }
    }).result;
  } catch (e) {
    throw invalid(what, 'JPEG 2000', (e as Error).message);
  }
  const { width, height, bitsPerSample, componentCount, isSigned } = frame.info;
  const n = width * height;
  const bytesPerSample = bitsPerSample > 8 ? 2 : 1;
  if (componentCount < 1 || componentCount > 4 || frame.data.length !== n * componentCount * bytesPerSample) {
    throw invalid(
      what,
      'JPEG 2000',
      `unsupported layout (${componentCount} components of ${bitsPerSample} bits, ${frame.data.length} bytes decoded)`,
    );
  }
  const count = n * componentCount;
  const out = new Uint8Array(count);
  if (bytesPerSample === 1 && !isSigned && bitsPerSample === 8) {
    out.set(frame.data);
  } else {
    // Rescale other depths to 8 bits (signed samples are offset to unsigned first).
    const view = new DataView(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
    const max = 2 ** bitsPerSample - 1;
    const offset = isSigned ? 2 ** (bitsPerSample - 1) : 0;
    for (let i = 0; i < count; i++) {
      let v = bytesPerSample === 2 ? view.getUint16(2 * i, true) : frame.data[i];
      if (isSigned) v = (bytesPerSample === 2 ? view.getInt16(2 * i, true) : (v << 24) >> 24) + offset;
      out[i] = Math.min(255, Math.max(0, Math.round((v * 255) / max)));
    }
  }
  return { width, height, channels: componentCount as Pixels['channels'], data: out };
}
