/** Public entry `stdb-commitlog/archive`: archive a log to S3, restore it, apply retention (issue 14). */
export { archiveLog, MANIFEST_NAME, partKey, readManifest, type ArchiveOptions, type ArchiveProgress, type ArchiveResult } from '../archive/archive.js';
export { restoreLog, type RestoreOptions } from '../archive/restore.js';
export { makeS3Client, parseS3Url, type S3Target } from '../archive/s3-client.js';
export { pruneArchive, planRetention, DAY_MS, type PruneArchiveOptions, type PruneArchiveResult, type RetentionPlan } from '../archive/retention.js';
export { zstdKey } from '../archive/zstd-object.js';
export { compressSeekable } from '../compress/seekable-write.js';
export {
  decodeManifest,
  encodeManifest,
  MANIFEST_VERSION,
  type Manifest,
  type ManifestPart,
  type ManifestSegment,
  type ManifestZstd,
} from '../archive/manifest.js';
export { S3Repo, openS3Repo, type S3RepoOptions, DEFAULT_BLOCK_BYTES, DEFAULT_CACHE_BLOCKS } from '../archive/s3-repo.js';
export { type RequestStats } from '../archive/sync-s3.js';
