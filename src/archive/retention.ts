/**
 * Retention of an archive (`retainDays`): whole segments only, oldest first, never the newest.
 *
 * A retained point is a commit that reached the archive within the last `retainDays` days. A restore
 * to such a point (`--at N`) must give every retained commit up to N, so a segment may go only when
 * every commit in it is older than the cutoff (its `archivedAt`, the time its last commit was
 * archived, is before the cutoff) and so is every segment before it. What a pruned archive restores
 * starts at its first kept segment, as a log pruned locally with `clog prune` does (SPEC: a log need
 * not start at offset 0). A segment without `archivedAt` (older manifests) stops pruning there.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { MANIFEST_VERSION, type Manifest, type ManifestSegment } from './manifest.js';
import { putManifest, readManifest } from './manifest-store.js';
import { deleteKeys, objectKey, type S3Target } from './s3-client.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface RetentionPlan {
  drop: ManifestSegment[];
  keep: ManifestSegment[];
  cutoff: number;
}

export function checkRetainDays(days: number): void {
  if (!Number.isFinite(days) || days < 0) throw new InvalidInputError(`retainDays must be a number of days ≥ 0, got ${days}`);
}

/** Pure: which segments of `m` a retention of `retainDays` at time `now` deletes. */
export function planRetention(m: Manifest, retainDays: number, now: number): RetentionPlan {
  checkRetainDays(retainDays);
  const cutoff = now - retainDays * DAY_MS;
  let n = 0;
  while (n < m.segments.length - 1) {
    const at = m.segments[n]!.archivedAt;
    if (at === undefined || at >= cutoff) break;
    n++;
  }
  return { drop: m.segments.slice(0, n), keep: m.segments.slice(n), cutoff };
}

export function segmentKeys(s: ManifestSegment): string[] {
  return s.zstd ? [s.zstd.key] : s.parts.map((p) => p.key);
}

export interface ApplyRetentionResult {
  /** Segments deleted (or, in a dry run, that would be). */
  dropped: ManifestSegment[];
  objectsDeleted: number;
  manifest: Manifest;
}

/**
 * Applies a plan: the manifest without the dropped segments is put first, then their objects are
 * deleted, so no manifest ever names a deleted object. A restore that read the previous manifest
 * while this runs may find an object gone; it then fails naming it, never restores less silently.
 */
export async function applyRetention(client: S3Client, target: S3Target, m: Manifest, plan: RetentionPlan, dryRun = false): Promise<ApplyRetentionResult> {
  if (plan.drop.length === 0 || dryRun) return { dropped: plan.drop, objectsDeleted: 0, manifest: m };
  const manifest: Manifest = { version: MANIFEST_VERSION, generation: m.generation + 1, segments: plan.keep };
  await putManifest(client, target, manifest);
  const keys = plan.drop.flatMap(segmentKeys).map((k) => objectKey(target, k));
  await deleteKeys(client, target.bucket, keys);
  return { dropped: plan.drop, objectsDeleted: keys.length, manifest };
}

export interface PruneArchiveOptions {
  client: S3Client;
  retainDays: number;
  /** Only report what would be deleted. */
  dryRun?: boolean;
  now?: () => number;
}

export interface PruneArchiveResult extends ApplyRetentionResult {
  executed: boolean;
  cutoff: number;
}

/** `clog prune s3://…`: applies retention to an archive without archiving anything. */
export async function pruneArchive(target: S3Target, options: PruneArchiveOptions): Promise<PruneArchiveResult> {
  checkRetainDays(options.retainDays);
  const m = await readManifest(options.client, target);
  if (m === null) throw new NotFoundError(`no archive manifest at s3://${target.bucket}/${target.prefix}`);
  const plan = planRetention(m, options.retainDays, (options.now ?? Date.now)());
  const r = await applyRetention(options.client, target, m, plan, options.dryRun === true);
  return { ...r, executed: options.dryRun !== true, cutoff: plan.cutoff };
}
