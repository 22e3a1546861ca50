#!/usr/bin/env node
/** `clog`: inspect, verify, copy and repair SpacetimeDB commitlogs. Parses arguments and prints; the work is in the library. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerArchive } from './commands/archive.js';
import { registerCompress } from './commands/compress.js';
import { registerDump } from './commands/dump.js';
import { registerChanges, registerExport } from './commands/export.js';
import { registerIndex } from './commands/index.js';
import { registerInfo } from './commands/info.js';
import { registerMirror } from './commands/mirror.js';
import { registerPrune } from './commands/prune.js';
import { registerResetTo } from './commands/reset-to.js';
import { registerServe } from './commands/serve.js';
import { registerUi } from './commands/ui.js';
import { registerTail } from './commands/tail.js';
import { registerVerify } from './commands/verify.js';
import { registerReplayCommands } from './commands/tables.js';
import { EXIT_ERROR, UsageError, noteIfNoSegments, reportError, setDebug } from './output.js';
import { isS3Url } from './source.js';

/**
 * Commands whose first argument is a log directory and that note a directory without segments on
 * stderr before running (`verify`, `serve` and `mirror` do it themselves: verify fails on it; `export` refuses such a directory).
 */
const NOTE_EMPTY = new Set(['info', 'dump', 'tail', 'tables', 'rows', 'changes', 'compress', 'prune', 'reset-to', 'index rebuild']);

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('clog')
    .description('Inspect, verify, copy and repair SpacetimeDB commitlogs')
    .version(packageVersion(), '-V, --version', 'print the version of clog (stdb-commitlog)')
    .option('--debug', 'print stack traces on errors')
    .exitOverride()
    .hook('preAction', (cmd, action) => {
      setDebug(Boolean(cmd.opts().debug));
      running = action;
    })
    // Issue 17 §3: a directory without segments is said plainly, never shown as a healthy empty log.
    .hook('preAction', (_cmd, action) => {
      const dir = action.args[0];
      const name = action.parent === program ? action.name() : `${action.parent?.name()} ${action.name()}`;
      // An s3:// source is noted by `openLogSource`, once its manifest is read.
      if (NOTE_EMPTY.has(name) && dir !== undefined && !isS3Url(dir)) noteIfNoSegments(dir);
    });
  registerInfo(program);
  registerVerify(program);
  registerDump(program);
  registerTail(program);
  registerCompress(program);
  registerResetTo(program);
  registerIndex(program);
  registerPrune(program);
  registerServe(program);
  registerUi(program);
  registerMirror(program);
  registerReplayCommands(program);
  registerExport(program);
  registerChanges(program);
  registerArchive(program);
  // Commander's own errors (unknown option, missing argument) in the same one-line form as ours.
  for (const cmd of [program, ...allSubcommands(program)]) {
    cmd.configureOutput({
      outputError: (text, write) => write(usageLine(text.replace(/^error: /, '').trim(), cmd)),
    });
  }
  return program;
}

/** The command whose action is running, for the usage line of a `UsageError` it throws. */
let running: Command | null = null;

function allSubcommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allSubcommands(c)]);
}

/** `clog: MESSAGE [USAGE]` and the command's usage line. */
function usageLine(message: string, cmd: Command | null): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  const usage = cmd ? `usage: ${names.join(' ')} ${cmd.usage()}\n` : '';
  return `clog: ${message} [USAGE]\n${usage}`;
}

/** The package's version, read from its package.json (three levels above dist/src/cli/). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? 0 : EXIT_ERROR;
    }
    if (e instanceof UsageError) {
      process.stderr.write(usageLine(e.message, running));
      return EXIT_ERROR;
    }
    return reportError(e);
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = reportError(e);
  },
);
