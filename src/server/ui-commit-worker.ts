/** Worker thread of `CommitDecoder` (ui-commit.ts): decodes one commit off the server's event loop. */
import { parentPort, workerData } from 'node:worker_threads';
import { replyFor } from './ui-commit.js';

const { dir, offset } = workerData as { dir: string; offset: number };
parentPort!.postMessage(replyFor(dir, offset));
