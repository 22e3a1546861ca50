/**
 * The caller part of a transaction's inputs. SpacetimeDB writes a reducer call's `reducer_args` as the
 * caller's identity (32 bytes), connection id (16) and the call's timestamp (i64 µs), then the
 * reducer's own arguments (BSATN of its parameters), as the v1.2 fixture's calls show.
 */
import type { Inputs } from '../payload/txdata.js';
import { rowToJson } from './json.js';
import { AT, BinaryReader, product, rowCodec } from './stdb.js';

const CALLER_COLUMNS = [
  { name: 'caller', type: product([['__identity__', AT.U256]]) },
  { name: 'connectionId', type: product([['__connection_id__', AT.U128]]) },
  { name: 'timestamp', type: product([['__timestamp_micros_since_unix_epoch__', AT.I64]]) },
];
const CALLER = rowCodec(CALLER_COLUMNS);
/** Bytes of the caller prefix. */
export const CALLER_LEN = 32 + 16 + 8;

export interface Caller {
  /** Identity, hex. */
  caller: string;
  /** Connection id, hex. */
  connectionId: string;
  /** ISO-8601 with microseconds (the raw microseconds when outside what Date shows). */
  timestamp: string;
}

/** The caller, connection id and timestamp of a transaction's inputs; null when they do not fit. */
export function decodeCaller(inputs: Inputs): Caller | null {
  if (inputs.reducerArgs.length < CALLER_LEN) return null;
  try {
    const j = rowToJson(CALLER.decode(new BinaryReader(inputs.reducerArgs)), CALLER_COLUMNS);
    return { caller: String(j.caller), connectionId: String(j.connectionId), timestamp: String(j.timestamp) };
  } catch {
    return null;
  }
}

/** The reducer's own arguments: what follows the caller prefix (all the bytes when there is none). */
export function reducerOwnArgs(inputs: Inputs): Uint8Array {
  return inputs.reducerArgs.length < CALLER_LEN ? inputs.reducerArgs : inputs.reducerArgs.subarray(CALLER_LEN);
}
