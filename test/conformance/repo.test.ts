/** Runs the repo conformance suite against every Repo implementation. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';
import { FsRepo } from '../../src/repo/fs.js';
import { MemoryRepo } from '../../src/repo/memory.js';
import { repoConformance } from './repo-conformance.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

repoConformance(
  'FsRepo',
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
    dirs.push(dir);
    return new FsRepo(dir);
  },
  { offsetIndex: true },
);

repoConformance('MemoryRepo', () => new MemoryRepo(), { offsetIndex: false });

repoConformance('MemoryRepo({ offsetIndex: true })', () => new MemoryRepo({ offsetIndex: true }), { offsetIndex: true });
