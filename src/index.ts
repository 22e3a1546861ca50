/**
 * stdb-commitlog, main entry: the log, its options, traversal, errors, DurableLog, streaming and repos.
 * Other entries: `stdb-commitlog/replay` (Txdata, replay), `stdb-commitlog/ops` (maintenance operations),
 * `stdb-commitlog/codec` (pure codecs), `stdb-commitlog/testing` (fault injection). Re-exports only; it must
 * not load the replay layer (and with it the `spacetimedb` package).
 */
export { Commitlog } from './log/commitlog.js';
export { GenericLog } from './log/generic-log.js';
export { type Options, DEFAULT_OPTIONS, UPSTREAM_2_8_DEFAULTS, offsetIndexLen, resolveOptions } from './options.js';
export {
  type LogSource,
  commitIterator,
  commits,
  commitsFrom,
  committedMeta,
  existingSegmentOffsets,
  foldTransactions,
  foldTransactionsFrom,
  foldTransactionRange,
  foldTransactionsRange,
  resetRepoTo,
  resetTo,
  transactions,
  transactionsFrom,
} from './log/free.js';
export { CommitIterator, type Result, type Transaction, type TraversalOptions } from './log/traversal.js';
export type { Committed } from './segment/writer.js';
export {
  type CompressionStats,
  type OnNewSegment,
  type Repo,
  type SizeOnDisk,
  type StorageFile,
  indexFileName,
  segmentFileName,
} from './repo/repo.js';
export { FsRepo, type FsRepoOptions, MAX_PREALLOCATE_BYTES } from './repo/fs.js';
export { MemoryRepo, MemoryBuffer, MemoryFile, type MemoryRepoOptions } from './repo/memory.js';
export { BufReader } from './payload/buf-reader.js';
export { ByteWriter } from './payload/byte-writer.js';
export { type Decoder, type Encoder, ArrayDecoder, rawDecoder, rawEncoder } from './payload/decoder.js';
export { type TxRange, type RangeInclusive, isEmptyRange, rangeContains, rangeFromBounds, retainRange } from './stream/range.js';
export { type StreamPosition, type StreamReadOptions, streamCommits, streamCommitsReadable, streamCommitsSync } from './stream/reader.js';
export { type FollowOptions, followCommits } from './stream/follow.js';
export { StreamWriter, type OnTrailingData, type StreamWriterOptions } from './stream/writer.js';
export { type ByteSource } from './stream/chunk-buffer.js';
export * from './errors.js';
export { InvalidCommitError } from './segment/metadata.js';
export { DurableLog, type DurableLogOptions, type DurableLogStats, LogWriteFailedError } from './durable/index.js';
