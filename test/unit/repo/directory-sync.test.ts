/**
 * Directory fsyncs (FIX beyond 1.3.0, which never syncs the directory): a new segment's entry is
 * durable before any commit in it can be, and a removed segment stays removed after a power loss.
 */
import { describe, expect, it } from 'vitest';
import { DurableLog, FsRepo, GenericLog } from '../../../src/index.js';
import { useTmpDirs } from '../../helpers/common.js';

const tmp = useTmpDirs();

/** Records, in order, the segment creations, header syncs and directory syncs of an `FsRepo`. */
class SpyRepo extends FsRepo {
  readonly events: string[] = [];
  override createSegment(offset: number): ReturnType<FsRepo['createSegment']> {
    const file = super.createSegment(offset);
    this.events.push(`create ${offset}`);
    const sync = file.sync.bind(file);
    file.sync = () => {
      sync();
      this.events.push(`sync ${offset}`);
    };
    return file;
  }
  override removeSegment(offset: number): void {
    this.events.push(`remove ${offset}`);
    super.removeSegment(offset);
  }
  override syncDirectory(): void {
    super.syncDirectory();
    this.events.push('dir');
  }
}

describe('directory fsync', () => {
  it('every new segment: header synced, then the directory, before its first commit is written', () => {
    const repo = new SpyRepo(tmp());
    const log = GenericLog.open(repo, { maxSegmentSize: 100 });
    for (let i = 0; i < 3; i++) {
      log.append(new Uint8Array(60).fill(i));
      log.commit();
    }
    expect(log.existingSegmentOffsets()).toEqual([0, 1, 2]);
    log.close();
    // Segment 0 at open; 1 and 2 on rotation, after the old head's sync.
    expect(repo.events).toEqual([
      'create 0', 'sync 0', 'dir',
      'sync 0', 'create 1', 'sync 1', 'dir',
      'sync 1', 'create 2', 'sync 2', 'dir',
    ]);
  });

  it('a removed segment is followed by a directory sync (open removing an empty tail segment)', () => {
    const dir = tmp();
    const log = GenericLog.open(new FsRepo(dir), { maxSegmentSize: 100 });
    log.append(new Uint8Array(80));
    log.commit();
    log.commit(); // QUIRK Q5: an empty segment 1
    log.close();
    const repo = new SpyRepo(dir);
    GenericLog.open(repo, { maxSegmentSize: 100 }).close();
    expect(repo.events).toEqual(['remove 1', 'dir']);
  });

  it('DurableLog.open syncs the log, then the directory, whatever an earlier writer left', async () => {
    const dir = tmp();
    const repo = new SpyRepo(dir);
    const log = DurableLog.open(repo);
    // The new segment's header and entry, then the open-time sync of the log and of the directory.
    expect(repo.events).toEqual(['create 0', 'sync 0', 'dir', 'sync 0', 'dir']);
    await log.close();
  });
});
