/**
 * One wording for every error of `clog` (issue 17): `clog: MESSAGE [CODE]` on stderr, options named as
 * typed, and for usage errors (commander's own included) the command's usage line after it, exit 2.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, clog } from './clog-run.js';

const LOG = path.join(FIXTURES, 'spacetimedb-v1.2', 'clog');

describe('clog error wording', () => {
  it.each([
    [['dump', LOG, '--from', 'abc'], "--from must be a non-negative integer, got 'abc'", 'clog dump [options] <dir>'],
    [['dump'], "missing required argument 'dir'", 'clog dump [options] <dir>'],
    [['dump', LOG, '--bogus'], "unknown option '--bogus'", 'clog dump [options] <dir>'],
    [['frob'], "unknown command 'frob'", 'clog [options] [command]'],
    [['prune', LOG], "required option '--before <offset>' not specified", 'clog prune [options] <dir>'],
    [['index', 'rebuild', LOG, '--segment', 'x'], "--segment must be a non-negative integer, got 'x'", 'clog index rebuild [options] <dir>'],
    [['reset-to', LOG, '-3'], "<offset> must be a non-negative integer, got '-3'", 'clog reset-to [options] <dir> <offset>'],
    [['reset-to', LOG, '9007199254740993'], '<offset> 9007199254740993 exceeds Number.MAX_SAFE_INTEGER', 'clog reset-to [options] <dir> <offset>'],
    [['tables', LOG, '--at', 'x'], "--at must be a non-negative integer, got 'x'", 'clog tables [options] <dir>'],
  ])('clog %j', async (args, message, usage) => {
    const r = await clog(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`clog: ${message} [USAGE]\nusage: ${usage}\n`);
  });

  it('errors of the library and of the system carry their code', async () => {
    const missing = await clog('verify', '/nonexistent/clog-dir');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^clog: .+ \[[A-Z][A-Z0-9_]*\]\n$/);
  });

  it('--help and --version still exit 0 and print to stdout', async () => {
    const help = await clog('dump', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: clog dump/);
    const version = await clog('-V');
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
