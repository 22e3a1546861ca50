/**
 * The public API by subpath (issue 12): what each entry holds, that the CLI and the server reach the
 * library only through public entries, that the main entry does not load the replay layer, and that a
 * consumer package type-checks against the `exports` map.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const PUBLIC_ENTRIES = ['src/index.ts', 'src/api/replay.ts', 'src/api/ops.ts', 'src/api/codec.ts', 'src/api/testing.ts', 'src/api/archive.ts'];

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative import targets of a source file, resolved to repo-relative `.ts` paths. */
function relativeImports(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/(?:from\s*|import\s*\(\s*)['"](\.[^'"]+)['"]/g)) {
    out.push(path.relative(ROOT, path.resolve(path.dirname(file), m[1]!)).replace(/\.js$/, '.ts'));
  }
  return out;
}

describe('public entries', () => {
  it('the CLI and the server import the library only through public entries', () => {
    const offenders: string[] = [];
    for (const top of ['src/cli', 'src/server']) {
      for (const f of tsFiles(path.join(ROOT, top))) {
        for (const target of relativeImports(f)) {
          const inside = target.startsWith('src/cli/') || target.startsWith('src/server/');
          if (!inside && !PUBLIC_ENTRIES.includes(target)) offenders.push(`${path.relative(ROOT, f)} → ${target}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('no import cycle between errors.ts and the layers above it', () => {
    expect(relativeImports(path.join(ROOT, 'src/errors.ts'))).toEqual([]);
  });

  it('the lower layers do not import the log layer', () => {
    const offenders: string[] = [];
    for (const low of ['src/codec', 'src/repo', 'src/segment', 'src/offset-index', 'src/compress']) {
      for (const f of tsFiles(path.join(ROOT, low))) {
        for (const t of relativeImports(f)) {
          if (/^src\/(log|stream|durable|replay|maintenance|server|cli|api)\//.test(t)) offenders.push(`${path.relative(ROOT, f)} → ${t}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('each entry exports its part and the main entry leaves the replay layer unloaded', () => {
    // A fresh process, so that nothing this test runner loaded counts.
    const script = `
      const main = await import('stdb-commitlog');
      const loadedBefore = Object.keys(main).length;
      const replay = await import('stdb-commitlog/replay');
      const ops = await import('stdb-commitlog/ops');
      const maintenance = await import('stdb-commitlog/maintenance');
      const codec = await import('stdb-commitlog/codec');
      const testing = await import('stdb-commitlog/testing');
      console.log(JSON.stringify({
        main: ['Commitlog', 'GenericLog', 'DurableLog', 'StreamWriter', 'FsRepo', 'MemoryRepo', 'commits', 'InvalidCommitError', 'rawDecoder'].filter((n) => !(n in main)),
        mainLeaks: ['replay', 'txdataDecoder', 'verifyLog', 'FaultyRepo', 'encodeCommit'].filter((n) => n in main),
        replay: ['replay', 'txdataDecoder', 'decodeTxdata', 'SchemaRegistry'].filter((n) => !(n in replay)),
        ops: ['verifyLog', 'logInfo', 'dumpCommits', 'compressLog', 'pruneLog', 'resetLog', 'rebuildIndexes'].filter((n) => !(n in ops)),
        alias: maintenance.verifyLog === ops.verifyLog,
        codec: ['encodeCommit', 'decodeCommit', 'encodeSegmentHeader', 'crc32c'].filter((n) => !(n in codec)),
        testing: ['FaultyRepo', 'seededRandom', 'MemoryRepo'].filter((n) => !(n in testing)),
        loadedBefore,
      }));`;
    const dir = consumerDir();
    const probe = path.join(dir, 'probe.mjs');
    fs.writeFileSync(probe, script);
    const res = JSON.parse(execFileSync(process.execPath, [probe], { cwd: dir, encoding: 'utf8' }));
    expect(res).toMatchObject({ main: [], mainLeaks: [], replay: [], ops: [], alias: true, codec: [], testing: [] });

    // Module graph of the main entry: nothing from replay or maintenance, no `spacetimedb`. A resolve hook
    // (run in its own thread) appends every resolved URL to a file.
    const log = path.join(dir, 'resolved.txt');
    fs.writeFileSync(path.join(dir, 'hooks.mjs'), `import fs from 'node:fs';
export async function resolve(s, c, next) { const r = await next(s, c); fs.appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }`);
    fs.writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module'; register('./hooks.mjs', import.meta.url);`);
    fs.writeFileSync(path.join(dir, 'main-only.mjs'), `await import('stdb-commitlog');`);
    execFileSync(process.execPath, ['--import', './register.mjs', 'main-only.mjs'], { cwd: dir });
    const urls = fs.readFileSync(log, 'utf8').trim().split('\n');
    expect(urls.some((u) => u.endsWith('/dist/src/index.js'))).toBe(true);
    expect(urls.filter((u) => /\/(replay|maintenance)\/|spacetimedb/.test(u))).toEqual([]);
  });

  it('a TypeScript consumer compiles against every entry through the exports map', () => {
    const dir = consumerDir();
    fs.writeFileSync(
      path.join(dir, 'use.ts'),
      `import { Commitlog, type Options, MemoryRepo, rawDecoder, UPSTREAM_2_8_DEFAULTS, foldTransactionsRange, foldTransactionRange, type CompressionStats, type SizeOnDisk, type TxRange, type OnNewSegment, type Committed } from 'stdb-commitlog';
import { replay, txdataDecoder, type ReplayResult } from 'stdb-commitlog/replay';
import { verifyLog, type VerifyResult } from 'stdb-commitlog/ops';
import { logInfo } from 'stdb-commitlog/maintenance';
import { encodeCommit, crc32c, type SegmentHeader } from 'stdb-commitlog/codec';
import { FaultyRepo, seededRandom } from 'stdb-commitlog/testing';
const opts: Partial<Options> = { maxSegmentSize: 1 << 20 };
const log: Commitlog<Uint8Array> | undefined = undefined;
const repo = new MemoryRepo();
const v: VerifyResult | undefined = undefined;
const r: ReplayResult | undefined = undefined;
const h: SegmentHeader | undefined = undefined;
// The upstream 2.8 API, type-checked as a consumer writes it.
const up: Partial<Options> = { ...UPSTREAM_2_8_DEFAULTS, preallocateSegments: true, writeBufferSize: 1 << 16 };
const onNew: OnNewSegment = (offset: number) => void offset;
const range: TxRange = { start: 1, end: 10, endInclusive: true };
function use28(l: Commitlog<Uint8Array>): [Committed | null, CompressionStats & { segments: number }, SizeOnDisk, number] {
  l.foldTransactionsRange(range, rawDecoder);
  foldTransactionsRange('/tmp/x', range, rawDecoder);
  foldTransactionRange('/tmp/x', {}, rawDecoder);
  return [l.commit([{ offset: 0, txdata: new Uint8Array(1) }]), l.compressSegments([0]), l.sizeOnDisk({ detailed: true }), l.sizeOnDisk()];
}
void [up, onNew, use28, Commitlog.open('/tmp/x', { onNewSegment: onNew, preallocateBytes: 0 })];
void [log, repo, opts, verifyLog, v, r, h, rawDecoder, replay, txdataDecoder, logInfo, encodeCommit, crc32c, FaultyRepo, seededRandom];
`,
    );
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules/@types')] }, files: ['use.ts'] }),
    );
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const out = (() => {
      try {
        return execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
      } catch (e) {
        return String((e as { stdout?: string }).stdout) + String((e as { stderr?: string }).stderr);
      }
    })();
    expect(out).toBe('');
  });
});

let consumer: string | undefined;
/** A scratch package that depends on this one (a symlink, as `npm link` makes), built output included. */
function consumerDir(): string {
  if (consumer) return consumer;
  if (!fs.existsSync(path.join(ROOT, 'dist/src/api/replay.js'))) throw new Error('run `npm run build` first (npm test does)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stdb-consumer-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules/stdb-commitlog'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  consumer = dir;
  return dir;
}
