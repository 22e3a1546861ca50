/**
 * The zstd binding (zstd-napi, built from its bundled libzstd source). Decompression writes into
 * buffers sized from the seek table, never from a size claimed inside a frame header.
 */
import { createRequire } from 'node:module';
import { Compressor } from 'zstd-napi';
import type * as Binding from 'zstd-napi/binding.js';

// The package is CommonJS: under Node's ESM loader a namespace import of it holds only `default`.
const binding = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof Binding;
import { InvalidDataError, messageOf } from '../errors.js';

/** Level 3 is zstd's default, which the reference asks for with level 0. */
export const COMPRESSION_LEVEL = 3;
/** Output grows in steps of this much when the decompressed size is not known in advance. */
const STREAM_STEP = 1024 * 1024;

export class FrameCompressor {
  private readonly c = new Compressor();
  constructor() {
    this.c.setParameters({ compressionLevel: COMPRESSION_LEVEL });
  }
  /** One complete, independent zstd frame. */
  compress(bytes: Uint8Array): Uint8Array {
    return this.c.compress(bytes);
  }
}

export class FrameDecompressor {
  private readonly dctx = new binding.DCtx();

  /** Decompresses frames that must yield exactly `expected` bytes. */
  decompress(bytes: Uint8Array, expected: number): Uint8Array {
    const out = new Uint8Array(expected);
    let n: number;
    try {
      n = this.dctx.decompress(out, bytes);
    } catch (e) {
      throw new InvalidDataError(`zstd: ${messageOf(e)}`, { cause: e });
    }
    if (n !== expected) {
      throw new InvalidDataError(`zstd frame decompressed to ${n} bytes, the seek table says ${expected}`);
    }
    return out;
  }

  /** Decompresses a whole stream of unknown size; `limit` bounds the output. */
  decompressAll(bytes: Uint8Array, limit: number): Uint8Array {
    const chunks: Uint8Array[] = [];
    let total = 0;
    let input = bytes;
    try {
      while (input.length > 0) {
        const chunk = new Uint8Array(STREAM_STEP);
        const [, produced, consumed] = this.dctx.decompressStream(chunk, input);
        if (produced === 0 && consumed === 0) throw new Error('no progress');
        total += produced;
        if (total > limit) throw new InvalidDataError(`zstd stream decompresses to more than ${limit} bytes`);
        chunks.push(chunk.subarray(0, produced));
        input = input.subarray(consumed);
      }
    } catch (e) {
      if (e instanceof InvalidDataError) throw e;
      throw new InvalidDataError(`zstd: ${messageOf(e)}`, { cause: e });
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
