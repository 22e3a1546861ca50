/** `clog serve <dir>`: the read-only HTTP server for mirroring. */
import type { Command } from 'commander';
import { LOG_SERVER_DEFAULTS, listen } from '../../server/http.js';
import { UsageError, noteIfNoSegments, parseOffsetArg, parsePort, serveUntilSignal } from '../output.js';

interface ServeFlags {
  host: string;
  port: string;
  token?: string;
  maxConnections: string;
  maxStreams: string;
  headersTimeout: string;
  stallTimeout: string;
  maxSegmentSize?: string;
  offsetIndexIntervalBytes?: string;
}

const D = LOG_SERVER_DEFAULTS;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a log over HTTP for mirroring (read-only)')
    .argument('<dir>', 'log directory')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', '3000')
    .option('--token <token>', 'require "Authorization: Bearer <token>"')
    .option('--max-connections <n>', 'open connections at most; at the cap the oldest idle one makes room', String(D.maxConnections))
    .option('--max-streams <n>', 'concurrent /v1/log streams at most (below --max-connections); beyond: 503', String(D.maxStreams))
    .option('--headers-timeout <ms>', 'time a connection has to send a request\'s headers', String(D.headersTimeoutMs))
    .option('--stall-timeout <ms>', 'close a log stream whose client takes no data for this long', String(D.stallTimeoutMs))
    .option('--max-segment-size <bytes>', 'publish this maxSegmentSize in /v1/meta (default: derived from the index files)')
    .option('--offset-index-interval-bytes <bytes>', 'publish this offsetIndexIntervalBytes in /v1/meta (default: derived)')
    .addHelpText(
      'after',
      `
Endpoints:
  GET /v1/meta                          min/max committed offsets, epoch, segments, logOptions (JSON)
  GET /v1/log?from=N[&to=M][&follow=1]  the raw commitlog stream of [N, M)

A missing <dir> is refused (exit 2). logOptions (maxSegmentSize, offsetIndexIntervalBytes,
offsetIndexBytes) are what 'clog mirror' writes its index files with, so that a mirror is
byte-identical; without the two flags they are derived from the log's offset index files.

Limits (slow, stalled or pipelining clients cannot lock others out):
  --max-streams      a stream beyond it gets 503 with Retry-After, before anything is read
  --max-connections  a new connection closes the oldest one with no response in flight (sending its
                     headers, or idle); it is refused only if every one has a response in flight
  --headers-timeout  a connection with no request in flight is closed when it has not sent a
                     complete request's headers this long after connecting or after its last response
  --stall-timeout    a stream whose client accepts no chunk (64 KiB) this long is closed
  One response is in flight per connection: pipelined requests wait their turn (16 at most, then
  the connection is closed).

Examples:
  clog serve ./db/clog
  clog serve ./db/clog --port 0 --token s3cret
  clog serve ./db/clog --max-streams 16 --stall-timeout 10000`,
    )
    .action(async (dir: string, opts: ServeFlags) => {
      const port = parsePort(opts.port);
      const limits = {
        maxConnections: parseOffsetArg(opts.maxConnections, 'max-connections'),
        maxStreams: parseOffsetArg(opts.maxStreams, 'max-streams'),
        headersTimeoutMs: parseOffsetArg(opts.headersTimeout, 'headers-timeout'),
        stallTimeoutMs: parseOffsetArg(opts.stallTimeout, 'stall-timeout'),
      };
      if (limits.maxStreams >= limits.maxConnections) {
        throw new UsageError(`--max-streams (${limits.maxStreams}) must be below --max-connections (${limits.maxConnections})`);
      }
      const logOptions = {
        maxSegmentSize: opts.maxSegmentSize === undefined ? undefined : parseOffsetArg(opts.maxSegmentSize, 'max-segment-size'),
        offsetIndexIntervalBytes:
          opts.offsetIndexIntervalBytes === undefined ? undefined : parseOffsetArg(opts.offsetIndexIntervalBytes, 'offset-index-interval-bytes'),
      };
      const { server, url } = await listen({ dir, host: opts.host, port, token: opts.token, logOptions, ...limits });
      // Served all the same (a writer may be about to start), but said.
      noteIfNoSegments(dir);
      process.stdout.write(`listening on ${url}\n`);
      await serveUntilSignal(server);
    });
}
