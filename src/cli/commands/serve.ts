/** `clog serve <dir>`: the read-only HTTP server for mirroring. */
import type { Command } from 'commander';
import { listen } from '../../server/http.js';
import { UsageError } from '../output.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a log over HTTP for mirroring (read-only)')
    .argument('<dir>', 'log directory')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', '3000')
    .option('--token <token>', 'require "Authorization: Bearer <token>"')
    .addHelpText(
      'after',
      `
Endpoints:
  GET /v1/meta                          min/max committed offsets, epoch, segments (JSON)
  GET /v1/log?from=N[&to=M][&follow=1]  the raw commitlog stream of [N, M)

Examples:
  clog serve ./db/clog
  clog serve ./db/clog --port 0 --token s3cret`,
    )
    .action(async (dir: string, opts: { host: string; port: string; token?: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid port '${opts.port}'`);
      const { server, url } = await listen({ dir, host: opts.host, port, token: opts.token });
      process.stdout.write(`listening on ${url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          server.close(() => resolve());
          server.closeAllConnections();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
