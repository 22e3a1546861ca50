/** The `Txdata` payload codec and its visitor (SPEC §10): re-exports only. */
export { MAX_VARINT_LEN, U64_MAX, decodeVarint, encodeVarint, varintLen } from './varint.js';
export { VARCHAR_MAX, utf8Decode, utf8Encode, varcharFromStr, varcharFromStrTruncate } from './varchar.js';
export {
  type Inputs,
  type Mutations,
  type Ops,
  type Outputs,
  type RowEncoder,
  type TableId,
  type Txdata,
  TxdataFlags,
  decodeInputs,
  decodeOutputs,
  encodeInputs,
  encodeMutations,
  encodeOutputs,
  encodeTxdata,
  isEmpty,
  txdataEncoder,
} from './txdata.js';
export {
  type TxdataVisitor,
  TXDATA_VERSION,
  consumeRecordFn,
  decodeMutations,
  decodeRecordFn,
  decodeTxdata,
  skipRecordFn,
  txdataDecoder,
} from './visitor.js';
export {
  type TxdataDecoderErrorKind,
  type TxdataErrorCode,
  TxdataDecoderError,
  TxdataErrorCodes,
} from './errors.js';
