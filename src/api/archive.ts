/** Public entry `stdb-commitlog/archive`: archive a log to S3 and restore it (issue 14). */
export { archiveLog, partKey, readManifest, MANIFEST_NAME, type ArchiveOptions, type ArchiveProgress, type ArchiveResult } from '../archive/archive.js';
export { restoreLog, type RestoreOptions } from '../archive/restore.js';
export { makeS3Client, parseS3Url, type S3Target } from '../archive/s3-client.js';
export { decodeManifest, encodeManifest, type Manifest, type ManifestPart, type ManifestSegment, type ManifestZstd } from '../archive/manifest.js';
export { S3Repo, openS3Repo, type S3RepoOptions, DEFAULT_BLOCK_BYTES, DEFAULT_CACHE_BLOCKS } from '../archive/s3-repo.js';
export { type RequestStats } from '../archive/sync-s3.js';
