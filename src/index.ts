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
export { FsRepo, type FsRepoOptions, MAX_PREALLOCATE_BYTES } from './repo/fs.js';
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
// Maintenance operations behind the `clog` commands (src/ops).
export { type LogDirListing, type SegmentFileEntry, listLogDir, openLogDir } from './ops/log-dir.js';
export { type ScanEvent, type ScanOptions, type ScanProblemKind, scanSegment } from './ops/segment-scan.js';
export { type IndexProblem, type IndexSummary, IndexCheck } from './ops/index-check.js';
export { type Problem, type ProblemKind, type VerifyOptions, type VerifyResult, verifyLog } from './ops/verify.js';
export { type LogInfo, type SegmentIndexInfo, type SegmentInfo, logInfo } from './ops/info.js';
export {
  type DumpOptions,
  type DumpedCommit,
  type FollowDumpOptions,
  type LastCommits,
  dumpCommits,
  followDump,
  lastCommits,
  toDumped,
} from './ops/dump.js';
export { type CompressOptions, type CompressResult, type CompressedSegment, compressLog } from './ops/compress.js';
export { type PruneResult, type PrunedSegment, pruneLog } from './ops/prune.js';
export { type ResetPlan, planResetTo, resetLog } from './ops/reset.js';
export { type RebuildOptions, type RebuildResult, type RebuiltIndex, rebuildIndexes } from './ops/index-rebuild.js';
// Replaying SpacetimeDB logs into tables (src/replay).
export {
  type AlgebraicType,
  type ColumnSchema,
  type Json,
  type MajorVersion,
  type ReplayErrorReason,
  type ReplayOptions,
  type ReplayResult,
  type ReplayedTable,
  type Row,
  type RowCodec,
  type SchemaUse,
  type SystemTableSchema,
  type TableSchema,
  LiveTable,
  ReplayError,
  ReplayVisitor,
  SYSTEM_TABLES,
  SchemaError,
  SchemaRegistry,
  type DecodedTableOps,
  type DecodedTransaction,
  decodeAlgebraicType,
  decodedTransactions,
  encodeAlgebraicType,
  replay,
  rowCodec,
  rowToJson,
  systemTables,
  valueToJson,
} from './replay/index.js';
export { DurableLog, type DurableLogOptions, type DurableLogStats, LogWriteFailedError } from './durable/index.js';
export { type ArmOptions, type FaultKind, type FaultyRepoOptions, type InjectedFault, FAULT_KINDS, FaultyRepo, seededRandom } from './repo/faulty.js';
