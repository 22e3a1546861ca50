import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Commitlog } from '../../../src/index.js';
import { MAGIC } from '../../../src/codec/segment-header.js';
import { isLeftoverTemp, removeLeftoverTempFiles, rewriteTempPath } from '../../../src/repo/temp-files.js';
import { tempDirs } from '../maintenance/log-fixtures.js';

const newDir = tempDirs();
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]);

describe('temporary files of interrupted writers', () => {
  it('names a rewrite temp file beside its target, with the target in the name', () => {
    const t = rewriteTempPath('/x/y/00000000000000000042.stdb.log');
    expect(path.dirname(t)).toBe('/x/y');
    expect(path.basename(t)).toMatch(/^\.00000000000000000042\.stdb\.log\.[A-Za-z0-9]{6}\.tmp$/);
    expect(isLeftoverTemp('/x/y', path.basename(t))).toBe(true);
    expect(rewriteTempPath('/a/00000000000000000000.stdb.log')).not.toBe(rewriteTempPath('/a/00000000000000000000.stdb.log'));
  });

  it('removes only leftovers of its own patterns', () => {
    const dir = newDir();
    const mine = [
      '.00000000000000000000.stdb.log.Ab12Cd.tmp',
      '.00000000000000001000.stdb.ofs.zzzzzz.tmp',
      '.commitlog.lock.0123456789ab',
      '.tmpAAAAAA', // old rewrite name, empty
      '.tmpBBBBBB', // old rewrite name, zstd bytes
      '.tmpCCCCCC', // old rewrite name, segment bytes
    ];
    const theirs = ['.tmpDDDDDD', 'notes.tmp', '.tmpshort', '.00000000000000000000.stdb.log.tmp', 'x.stdb.log.Ab12Cd.tmp'];
    for (const n of [...mine, ...theirs]) fs.writeFileSync(path.join(dir, n), '');
    fs.writeFileSync(path.join(dir, '.tmpBBBBBB'), ZSTD);
    fs.writeFileSync(path.join(dir, '.tmpCCCCCC'), Buffer.concat([Buffer.from(MAGIC), Buffer.alloc(4)]));
    fs.writeFileSync(path.join(dir, '.tmpDDDDDD'), 'a user file that happens to share the old name');
    for (const n of theirs.filter((n) => n !== '.tmpDDDDDD')) fs.writeFileSync(path.join(dir, n), 'user data');
    expect(removeLeftoverTempFiles(dir).sort()).toEqual([...mine].sort());
    expect(fs.readdirSync(dir).sort()).toEqual([...theirs].sort());
  });

  it('the next writer to open the log clears them', () => {
    const dir = newDir();
    Commitlog.open(dir).close();
    const left = path.basename(rewriteTempPath(path.join(dir, '00000000000000000000.stdb.log')));
    fs.writeFileSync(path.join(dir, left), ZSTD);
    const log = Commitlog.open(dir);
    expect(fs.existsSync(path.join(dir, left))).toBe(false);
    // While the lock is held, a new temp file (a live rewrite) is nobody else's to remove.
    log.close();
  });
});
