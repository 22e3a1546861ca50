/** `NODE_DEBUG=commitlog` logging of resume, repair and index decisions. */
import { debuglog } from 'node:util';

export const debug = debuglog('commitlog');
