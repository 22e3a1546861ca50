/** `stdb-commitlog/codec`: the pure codecs of the format (segment header, commit framing, CRC32C). */
export {
  type Commit,
  type CommitHeader,
  type StoredCommit,
  CHECKSUM_ALGORITHM,
  CHECKSUM_LEN,
  COMMIT_HEADER_LEN,
  COMMIT_HEADER_LEN_V0,
  DEFAULT_EPOCH,
  FRAMING_LEN,
  decodeCommit,
  decodeCommitFrame,
  decodeCommitHeader,
  decodeStoredCommit,
  encodeCommit,
  encodedLen,
  frameLen,
  txRange,
} from '../codec/commit.js';
export {
  type SegmentHeader,
  DEFAULT_LOG_FORMAT_VERSION,
  MAGIC,
  SEGMENT_HEADER_LEN,
  decodeSegmentHeader,
  encodeSegmentHeader,
  ensureCompatible,
} from '../codec/segment-header.js';
export { crc32c } from '../codec/crc32c.js';
