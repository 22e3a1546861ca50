/** `TxdataDecoderError` (SPEC §10.4, §12.3; Rust `payload::txdata::DecoderError`). */
import { CommitlogError, ErrorCodes, messageOf } from '../errors.js';

export const TxdataErrorCodes = {
  TXDATA_UNSUPPORTED_VERSION: ErrorCodes.TXDATA_UNSUPPORTED_VERSION,
  TXDATA_DECODE: ErrorCodes.TXDATA_DECODE,
  TXDATA_VISITOR: ErrorCodes.TXDATA_VISITOR,
  TXDATA_TRAVERSE: ErrorCodes.TXDATA_TRAVERSE,
} as const;

export type TxdataErrorCode = (typeof TxdataErrorCodes)[keyof typeof TxdataErrorCodes];

/** The Rust enum variant: the kind names of §10.4. */
export type TxdataDecoderErrorKind = 'UnsupportedVersion' | 'Decode' | 'Visitor' | 'Traverse';

const CODE_OF: Record<TxdataDecoderErrorKind, TxdataErrorCode> = {
  UnsupportedVersion: TxdataErrorCodes.TXDATA_UNSUPPORTED_VERSION,
  Decode: TxdataErrorCodes.TXDATA_DECODE,
  Visitor: TxdataErrorCodes.TXDATA_VISITOR,
  Traverse: TxdataErrorCodes.TXDATA_TRAVERSE,
};

export class TxdataDecoderError extends CommitlogError {
  /** Only for `UnsupportedVersion`: the highest log format version the Txdata decoder reads. */
  readonly supported?: number;
  /** Only for `UnsupportedVersion`: the segment's log format version. */
  readonly given?: number;

  private constructor(
    readonly kind: TxdataDecoderErrorKind,
    message: string,
    options?: { cause?: unknown },
    versions?: { supported: number; given: number },
  ) {
    super(CODE_OF[kind], message, options);
    if (versions) {
      this.supported = versions.supported;
      this.given = versions.given;
    }
  }

  static unsupportedVersion(supported: number, given: number): TxdataDecoderError {
    return new TxdataDecoderError(
      'UnsupportedVersion',
      `unsupported version: ${given} supported=${supported}`,
      undefined,
      { supported, given },
    );
  }

  /** A `DecodeError` reported on its own (the decode functions of §10.4 report these as `Visitor`). */
  static decode(cause: unknown): TxdataDecoderError {
    return new TxdataDecoderError('Decode', messageOf(cause), { cause });
  }

  /** Anything thrown while reading a `Txdata` or by a visitor method. */
  static visitor(cause: unknown): TxdataDecoderError {
    return new TxdataDecoderError('Visitor', `failed to decode txdata: ${messageOf(cause)}`, { cause });
  }

  static traverse(cause: unknown): TxdataDecoderError {
    return new TxdataDecoderError('Traverse', messageOf(cause), { cause });
  }
}
