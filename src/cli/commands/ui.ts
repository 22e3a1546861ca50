/** `clog ui <dir>`: the read-only web inspector. */
import type { Command } from 'commander';
import { listenUi } from '../../server/ui.js';
import { parsePort, serveUntilSignal } from '../output.js';

export function registerUi(program: Command): void {
  program
    .command('ui')
    .description('serve a read-only web inspector of a log')
    .argument('<dir>', 'log directory')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', '3001')
    .option('--token <token>', 'require "Authorization: Bearer <token>" (or ?token= on the page URL)')
    .action(async (dir: string, opts: { host: string; port: string; token?: string }) => {
      const port = parsePort(opts.port);
      const { server, url } = await listenUi({ dir, host: opts.host, port, token: opts.token });
      process.stdout.write(`listening on ${url}\n`);
      await serveUntilSignal(server);
    });
}
