/**
 * A log directory as the maintenance tools see it: checked to exist (the `FsRepo` constructor would
 * create a missing one, QUIRK Q35, which a read-only tool must not do), and listed raw, so names the
 * readers skip or misread (SPEC §2.1, QUIRK Q36) can be reported.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError, NotFoundError, fromSystemError } from '../errors.js';
import type { LogSource } from '../log/free.js';
import { FsRepo } from '../repo/fs.js';
import { INDEX_FILE_EXT, type Repo, SEGMENT_FILE_EXT, parseSegmentFileName, segmentFileName } from '../repo/repo.js';

/** Opens an existing log directory; throws `NotFoundError` if it is missing, `InvalidInputError` if not a directory. */
export function openLogDir(dir: string): FsRepo {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`no such log directory: ${dir}`);
    throw fromSystemError(e, `stat ${dir}`);
  }
  if (!st.isDirectory()) throw new InvalidInputError(`not a directory: ${dir}`);
  return new FsRepo(dir);
}

/**
 * What the read-only tools take: a log directory (opened with `openLogDir`) or any `Repo` already
 * open, such as an `S3Repo` reading an archive in place.
 */
export function openLogSource(source: LogSource): Repo {
  return typeof source === 'string' ? openLogDir(source) : source;
}

/** How messages name a source: the directory's absolute path, or the repo's own `toString()`. */
export function sourceName(repo: Repo): string {
  return repo instanceof FsRepo ? repo.root : String(repo);
}

/**
 * `listLogDir` for any repo: a directory is listed raw; a repo without file names (an archive, memory)
 * has only the segments it lists, each under its proper name, and no index files of its own.
 */
export function listLogSource(repo: Repo): LogDirListing {
  if (repo instanceof FsRepo) return listLogDir(repo.root);
  const offsets = [...new Set(repo.existingOffsets())].sort((a, b) => a - b);
  return {
    offsets,
    segmentFiles: offsets.map((offset) => ({ name: segmentFileName(offset), offset, issue: null })),
    indexOffsets: [],
  };
}

export interface SegmentFileEntry {
  name: string;
  /** The offset the readers list it under; null when they skip it. */
  offset: number | null;
  /** Why the readers skip or cannot open it by this name, or null for a proper `{offset:020}.stdb.log`. */
  issue: string | null;
}

export interface LogDirListing {
  /** Offsets the readers list (`existingOffsets`), ascending, without duplicates. */
  offsets: number[];
  /** Every entry whose name ends in `.stdb.log`. */
  segmentFiles: SegmentFileEntry[];
  /** Offsets of `{offset:020}.stdb.ofs` files, ascending. */
  indexOffsets: number[];
}

/** Lists the directory without following symlinks, the way `FsRepo.existingOffsets` does, but keeps what it skips. */
export function listLogDir(dir: string): LogDirListing {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw fromSystemError(e, `list ${dir}`);
  }
  const offsets = new Set<number>();
  const segmentFiles: SegmentFileEntry[] = [];
  const indexOffsets: number[] = [];
  for (const entry of entries) {
    const name = entry.name;
    if (name.endsWith(INDEX_FILE_EXT) && entry.isFile()) {
      const stem = name.slice(0, -INDEX_FILE_EXT.length);
      if (/^[0-9]{20}$/.test(stem) && Number(stem) <= Number.MAX_SAFE_INTEGER) indexOffsets.push(Number(stem));
      continue;
    }
    if (!name.endsWith(SEGMENT_FILE_EXT)) continue;
    const parsed = parseSegmentFileName(name);
    const offset = typeof parsed === 'number' ? parsed : null;
    let issue: string | null = null;
    if (parsed === null) issue = 'not a segment name (readers ignore it)';
    else if (parsed === 'unsafe') issue = 'starts beyond Number.MAX_SAFE_INTEGER (not supported)';
    else if (entry.isSymbolicLink()) issue = 'a symbolic link (readers ignore it)';
    else if (!entry.isFile()) issue = 'not a regular file (readers ignore it)';
    else if (name !== segmentFileName(parsed)) {
      issue = `listed as segment ${parsed}, but readers open ${segmentFileName(parsed)}`;
    }
    // Readers list every regular file that parses, whatever its spelling; they then open the 20-digit name.
    if (offset !== null && entry.isFile()) offsets.add(offset);
    segmentFiles.push({ name, offset, issue });
  }
  segmentFiles.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    offsets: [...offsets].sort((a, b) => a - b),
    segmentFiles,
    indexOffsets: indexOffsets.sort((a, b) => a - b),
  };
}

/**
 * Bytes of disk blocks allocated to a file (`st_blocks × 512`), or null if it does not exist. Differs
 * from the length for sparse files: an index file is created at full capacity but holds blocks only
 * where entries were written.
 */
export function fileAllocated(dir: string, name: string): number | null {
  try {
    return fs.statSync(path.join(dir, name)).blocks * 512;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fromSystemError(e, `stat ${path.join(dir, name)}`);
  }
}

/** Size of a file in the log directory, or null if it does not exist. */
export function fileSize(dir: string, name: string): number | null {
  try {
    return fs.statSync(path.join(dir, name)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fromSystemError(e, `stat ${path.join(dir, name)}`);
  }
}

/**
 * The one wording for a directory the readers find no segment in (issue 17 §3): every command says
 * it, so an empty or mistyped directory is never mistaken for an empty but healthy log.
 */
export function noSegmentsMessage(source: LogSource, listing?: LogDirListing): string | null {
  let dir: string;
  if (typeof source === 'string') {
    dir = source;
    listing ??= listLogDir(source);
  } else {
    dir = sourceName(source);
    listing ??= listLogSource(source);
  }
  if (listing.offsets.length > 0) return null;
  const skipped = listing.segmentFiles.length;
  return (
    `no commitlog segments (*.stdb.log) in ${dir}` +
    (skipped > 0 ? ` (${skipped} file${skipped === 1 ? '' : 's'} named *.stdb.log that readers skip: see 'clog verify')` : '')
  );
}
