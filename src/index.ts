/** stdb-commitlog: a byte-compatible SpacetimeDB commitlog for Node.js. Public API (re-exports only). */
export { Commitlog } from './log/commitlog.js';
export { GenericLog } from './log/generic-log.js';
export { type Options, DEFAULT_OPTIONS, offsetIndexLen, resolveOptions } from './log/options.js';
export {
  type LogSource,
  commitIterator,
  commits,
  commitsFrom,
  committedMeta,
  existingSegmentOffsets,
  foldTransactions,
  foldTransactionsFrom,
  resetRepoTo,
  resetTo,
  transactions,
  transactionsFrom,
} from './log/free.js';
export { CommitIterator, type Result, type Transaction, type TraversalOptions } from './log/traversal.js';
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
} from './codec/commit.js';
export {
  type SegmentHeader,
  DEFAULT_LOG_FORMAT_VERSION,
  MAGIC,
  SEGMENT_HEADER_LEN,
  decodeSegmentHeader,
  encodeSegmentHeader,
  ensureCompatible,
} from './codec/segment-header.js';
export { crc32c } from './codec/crc32c.js';
export { type SegmentMetadata, extractMetadata } from './segment/metadata.js';
export type { Committed } from './segment/writer.js';
export { IndexFile, INDEX_ENTRY_LEN } from './index/index-file.js';
export { OffsetIndexWriter } from './index/offset-index-writer.js';
export { type Repo, type StorageFile, indexFileName, segmentFileName } from './repo/repo.js';
export { FsRepo } from './repo/fs.js';
export { MemoryRepo, MemoryBuffer, MemoryFile, type MemoryRepoOptions } from './repo/memory.js';
export { BufReader } from './payload/buf-reader.js';
export { ByteWriter } from './payload/byte-writer.js';
export { type Decoder, type Encoder, ArrayDecoder, rawDecoder, rawEncoder } from './payload/decoder.js';
export { type TxRange, type RangeInclusive, isEmptyRange, rangeContains, rangeFromBounds, retainRange } from './stream/range.js';
export { type StreamPosition, streamCommits, streamCommitsReadable, streamCommitsSync } from './stream/reader.js';
export { type FollowOptions, followCommits } from './stream/follow.js';
export { StreamWriter, type OnTrailingData, type StreamWriterOptions } from './stream/writer.js';
export { type ByteSource } from './stream/chunk-buffer.js';
export * from './payload/index.js';
export * from './errors.js';
