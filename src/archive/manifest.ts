/**
 * The archive manifest (issue 14): a pure JSON codec. The manifest is the only object a reader trusts;
 * it is written last, so every part it names was complete (size and CRC32C checked) before it was put.
 * Nothing here touches the network; every field read back is validated, never trusted.
 */
import { InvalidDataError } from '../errors.js';

export const MANIFEST_VERSION = 2;
/** Versions this reader understands: 1 had no `zstd` segments. */
const READABLE_VERSIONS = [1, 2];
/** Bound on the JSON we accept: 64 MiB is far beyond any log's manifest (~150 bytes per part). */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/** One uploaded byte range `[start, end)` of a segment file, stored as its own object. */
export interface ManifestPart {
  key: string;
  start: number;
  end: number;
  /** CRC32C of the object's bytes. */
  crc32c: number;
  /** Commits whose frames lie wholly in this part. */
  commits: number;
  /** Tx offsets covered: `[minTx, maxTx]`; -1 both when the part holds only the segment header. */
  minTx: number;
  maxTx: number;
}

/**
 * A sealed segment stored as one object in the seekable zstd layout (SPEC, compressed segments), so it
 * can be read in place with ranged GETs through its seek table. Replaces the segment's parts.
 */
export interface ManifestZstd {
  key: string;
  /** Size of the object (the compressed file, seek table included). */
  bytes: number;
  /** CRC32C of the object's bytes. */
  crc32c: number;
  /** The source file was itself compressed: restore writes the object as is; otherwise it decompresses. */
  keepCompressed: boolean;
  commits: number;
  minTx: number;
  maxTx: number;
}

export interface ManifestSegment {
  /** The segment's first tx offset (its file name). */
  offset: number;
  /** Bytes archived (uncompressed): the sum of the parts, or the decompressed size of `zstd`; a commit boundary. */
  size: number;
  /** Byte ranges of the segment, contiguous from 0; empty when `zstd` holds the whole segment. */
  parts: ManifestPart[];
  zstd?: ManifestZstd;
  /**
   * When the segment's last commit reached the archive (ms since the epoch): the time its `size` last
   * grew. Retention (`retainDays`) compares it with the cutoff. Absent in manifests written before it
   * existed; such a segment is never pruned.
   */
  archivedAt?: number;
}

export interface Manifest {
  version: number;
  generation: number;
  segments: ManifestSegment[];
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new InvalidDataError(`archive manifest: ${what} is not an integer`);
  return v;
}

export function encodeManifest(m: Manifest): Uint8Array {
  validateManifest(m);
  return new TextEncoder().encode(JSON.stringify(m));
}

export function decodeManifest(bytes: Uint8Array): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES) throw new InvalidDataError(`archive manifest is ${bytes.length} bytes, over the limit`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new InvalidDataError('archive manifest is not valid JSON', { cause: e });
  }
  const o = raw as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.segments)) throw new InvalidDataError('archive manifest: no segments list');
  const m: Manifest = {
    version: int(o.version, 'version'),
    generation: int(o.generation, 'generation'),
    segments: o.segments.map((s: Record<string, unknown>, i: number) => {
      if (typeof s !== 'object' || s === null || !Array.isArray(s.parts)) throw new InvalidDataError(`archive manifest: segment #${i} malformed`);
      let zstd: ManifestZstd | undefined;
      if (s.zstd !== undefined) {
        const z = s.zstd as Record<string, unknown>;
        if (typeof z !== 'object' || z === null || typeof z.key !== 'string' || typeof z.keepCompressed !== 'boolean') throw new InvalidDataError(`archive manifest: segment #${i} zstd malformed`);
        const w = `zstd ${z.key}`;
        zstd = { key: z.key, bytes: int(z.bytes, w), crc32c: int(z.crc32c, w), keepCompressed: z.keepCompressed, commits: int(z.commits, w), minTx: int(z.minTx, w), maxTx: int(z.maxTx, w) };
      }
      return {
        ...(zstd ? { zstd } : {}),
        ...(s.archivedAt !== undefined ? { archivedAt: int(s.archivedAt, `segment #${i} archivedAt`) } : {}),
        offset: int(s.offset, `segment #${i} offset`),
        size: int(s.size, `segment #${i} size`),
        parts: s.parts.map((p: Record<string, unknown>, j: number) => {
          if (typeof p !== 'object' || p === null || typeof p.key !== 'string') throw new InvalidDataError(`archive manifest: part ${i}/${j} malformed`);
          const w = `part ${p.key}`;
          return { key: p.key, start: int(p.start, w), end: int(p.end, w), crc32c: int(p.crc32c, w), commits: int(p.commits, w), minTx: int(p.minTx, w), maxTx: int(p.maxTx, w) };
        }),
      };
    }),
  };
  validateManifest(m);
  return m;
}

/** Parts contiguous from byte 0, segments ascending, sizes matching: checked on encode and decode. */
export function validateManifest(m: Manifest): void {
  if (!READABLE_VERSIONS.includes(m.version)) throw new InvalidDataError(`archive manifest version ${m.version} not supported`);
  let prev = -1;
  for (const s of m.segments) {
    if (s.offset <= prev) throw new InvalidDataError(`archive manifest: segment ${s.offset} out of order or repeated`);
    prev = s.offset;
    if (s.offset < 0) throw new InvalidDataError(`archive manifest: segment offset ${s.offset} is negative`);
    if (s.archivedAt !== undefined && (!Number.isSafeInteger(s.archivedAt) || s.archivedAt < 0)) {
      throw new InvalidDataError(`archive manifest: segment ${s.offset} archivedAt ${s.archivedAt} is not a time`);
    }
    if (s.zstd) {
      const z = s.zstd;
      if (s.parts.length > 0) throw new InvalidDataError(`archive manifest: segment ${s.offset} has both parts and a zstd object`);
      if (z.crc32c < 0 || z.crc32c > 0xffff_ffff || z.bytes <= 0) throw new InvalidDataError(`archive manifest: zstd ${z.key} malformed`);
      if (z.commits < 1 || z.minTx !== s.offset || z.maxTx < z.minTx || s.size <= 0) {
        throw new InvalidDataError(`archive manifest: zstd ${z.key} of segment ${s.offset} names no commits or the wrong offsets`);
      }
      continue;
    }
    let pos = 0;
    for (const p of s.parts) {
      if (p.start !== pos || p.end <= p.start) throw new InvalidDataError(`archive manifest: part ${p.key} of segment ${s.offset} not contiguous`);
      if (p.crc32c < 0 || p.crc32c > 0xffff_ffff) throw new InvalidDataError(`archive manifest: part ${p.key} crc out of range`);
      pos = p.end;
    }
    if (pos !== s.size) throw new InvalidDataError(`archive manifest: segment ${s.offset} parts sum to ${pos}, not ${s.size}`);
  }
}
