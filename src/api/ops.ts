/**
 * `stdb-commitlog/ops` (alias `stdb-commitlog/maintenance`): the maintenance operations behind `clog`
 * (verify, info, dump, compress, prune, reset, index rebuild) and the format-level access they use.
 */
export { type LogDirListing, type SegmentFileEntry, listLogDir, noSegmentsMessage, openLogDir } from '../maintenance/log-dir.js';
export { type LogOptionSource, type SourceLogOptions, sourceLogOptions } from '../maintenance/log-options.js';
export { type ScanEvent, type ScanOptions, type ScanProblemKind, scanSegment } from '../maintenance/segment-scan.js';
export { type IndexProblem, type IndexSummary, IndexCheck } from '../maintenance/index-check.js';
export { type Problem, type ProblemKind, type VerifyOptions, type VerifyResult, verifyLog } from '../maintenance/verify.js';
export { type LogInfo, type LogInfoOptions, type SegmentIndexInfo, type SegmentInfo, logInfo } from '../maintenance/info.js';
export {
  type DumpOptions,
  type DumpedCommit,
  type FollowDumpOptions,
  type LastCommits,
  dumpCommits,
  followDump,
  lastCommits,
  toDumped,
} from '../maintenance/dump.js';
export { type CompressOptions, type CompressResult, type CompressedSegment, compressLog } from '../maintenance/compress.js';
export { type PruneResult, type PrunedSegment, pruneLog } from '../maintenance/prune.js';
export { type ResetPlan, planResetTo, resetLog } from '../maintenance/reset.js';
export { type RebuildOptions, type RebuildResult, type RebuiltIndex, rebuildIndexes } from '../maintenance/index-rebuild.js';
export { type SegmentMetadata, extractMetadata } from '../segment/metadata.js';
export { IndexFile, INDEX_ENTRY_LEN } from '../offset-index/index-file.js';
export { OffsetIndexWriter } from '../offset-index/offset-index-writer.js';
