/** Public entry `stdb-commitlog/archive`: archive a log to S3 and restore it (issue 14). */
export { archiveLog, readManifest, type ArchiveOptions, type ArchiveProgress, type ArchiveResult } from '../archive/archive.js';
export { restoreLog, type RestoreOptions } from '../archive/restore.js';
export { makeS3Client, parseS3Url, type S3Target } from '../archive/s3-client.js';
export { decodeManifest, encodeManifest, type Manifest, type ManifestPart, type ManifestSegment } from '../archive/manifest.js';
