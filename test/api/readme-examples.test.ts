/**
 * The README's library examples run as written (issue 17: the first example once read back
 * `helloworld` and an empty record). Each self-contained block that imports `stdb-commitlog` is
 * transpiled, run in a fresh directory against the built package (self-reference through the
 * `exports` map), and its transaction loop must print what the block's trailing comment promises.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** `ts` blocks that import the main entry and open logs only under `./` (nothing they did not write). */
const blocks = [...README.matchAll(/```ts\n(.*?)```/gs)]
  .map((m) => m[1]!)
  .filter((b) => /^import .* from 'stdb-commitlog';/.test(b) && /transactions\(/.test(b));

/** The `0 hello, 1 world` of the block's last `// …` comment on a transactions loop, as lines. */
function promised(block: string): string[] {
  const line = block.split('\n').find((l) => /transactions\(/.test(l) && l.includes('//')) ??
    block.split('\n')[block.split('\n').findIndex((l) => /transactions\(/.test(l)) + 1]!;
  return line
    .slice(line.indexOf('//') + 2)
    .split(',')
    .map((s) => s.trim());
}

describe('README examples', () => {
  it('has the examples this test runs', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  it.each(blocks.map((b, i) => [i, b]))('block %i runs and prints what it says', (i, block) => {
    const js = ts.transpileModule(block as string, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    // Inside the package, so `import 'stdb-commitlog'` resolves to dist through the exports map.
    const dir = path.join(ROOT, 'dist', 'readme-examples');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `block-${i}.mjs`);
    fs.writeFileSync(file, js);
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-readme-'));
    try {
      const out = execFileSync(process.execPath, [file], { cwd, encoding: 'utf8' }).trim().split('\n');
      const want = promised(block as string);
      expect(want.length).toBeGreaterThanOrEqual(2);
      expect(out.slice(-want.length)).toEqual(want);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});
