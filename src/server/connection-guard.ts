/**
 * Per-connection limits of the log server (issue 16 §4), kept apart from the routes:
 *
 * - a connection cap that slow or idle sockets cannot fill: at the cap, a new connection closes the
 *   oldest one with no response in flight (still sending its headers, or idle between requests), and
 *   is refused only when every connection has a response in flight;
 * - a headers deadline enforced by a timer per socket, at its value (Node's own check runs on a 30 s
 *   sweep): a socket with no request in flight must complete a request's headers within
 *   `headersTimeoutMs` of connecting or of its previous response ending;
 * - one response in flight per connection: pipelined requests wait their turn (nothing is opened for
 *   them meanwhile), and a connection with more than `maxPipelined` waiting is closed.
 */
import type * as http from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionGuardOptions {
  maxConnections: number;
  headersTimeoutMs: number;
  maxPipelined: number;
}

interface SocketState {
  /** A response of this socket is being produced. */
  busy: boolean;
  /** Pipelined requests waiting for the response in flight to end, oldest first. */
  waiting: (() => void)[];
  headersTimer: NodeJS.Timeout | null;
  closed: boolean;
}

/** Sent to a socket that started a request but did not finish its headers in time (as Node does). */
const REQUEST_TIMEOUT_RESPONSE = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

export class ConnectionGuard {
  /** Open connections in the order they were accepted (a Map iterates in insertion order). */
  private readonly sockets = new Map<Socket, SocketState>();
  /** Connections closed by the guard, by reason (for tests and operators). */
  readonly closed = { evicted: 0, refused: 0, headersTimeout: 0, pipelined: 0 };

  constructor(private readonly options: ConnectionGuardOptions) {}

  get size(): number {
    return this.sockets.size;
  }

  /** To be called on the server's 'connection' event. */
  accept(socket: Socket): void {
    if (this.sockets.size >= this.options.maxConnections && !this.evictOne()) {
      this.closed.refused++;
      socket.destroy();
      return;
    }
    const state: SocketState = { busy: false, waiting: [], headersTimer: null, closed: false };
    this.sockets.set(socket, state);
    socket.once('close', () => this.forget(socket, state));
    this.armHeadersTimer(socket, state);
  }

  /**
   * Runs `handle` once no other response of the request's socket is in flight; the response counts as
   * in flight until it emits 'close'. A request whose connection is gone before its turn is dropped.
   */
  admit(req: http.IncomingMessage, res: http.ServerResponse, handle: () => void): void {
    const socket = req.socket;
    if (socket.destroyed) return;
    const state = this.sockets.get(socket);
    if (state === undefined) {
      // Not accepted by this guard (the server was not attached) or already forgotten: nothing to order.
      handle();
      return;
    }
    this.clearHeadersTimer(state);
    const run = (): void => {
      state.busy = true;
      res.once('close', () => this.responseEnded(socket, state));
      handle();
    };
    if (!state.busy) {
      run();
      return;
    }
    if (state.waiting.length >= this.options.maxPipelined) {
      this.closed.pipelined++;
      this.drop(socket, state);
      return;
    }
    state.waiting.push(run);
  }

  private responseEnded(socket: Socket, state: SocketState): void {
    state.busy = false;
    if (state.closed) return;
    const next = state.waiting.shift();
    if (next !== undefined) next();
    else this.armHeadersTimer(socket, state);
  }

  /** Closes the oldest connection with no response in flight; false if there is none. */
  private evictOne(): boolean {
    for (const [socket, state] of this.sockets) {
      if (!state.busy && state.waiting.length === 0) {
        this.closed.evicted++;
        this.drop(socket, state);
        return true;
      }
    }
    return false;
  }

  private armHeadersTimer(socket: Socket, state: SocketState): void {
    this.clearHeadersTimer(state);
    const readBefore = socket.bytesRead;
    state.headersTimer = setTimeout(() => {
      state.headersTimer = null;
      if (state.closed || state.busy) return;
      this.closed.headersTimeout++;
      // Bytes since the timer was armed are a request that did not finish: tell it why. A socket that
      // sent nothing (a fresh connection, or idle after a response) is just closed.
      const partial = socket.bytesRead > readBefore;
      this.forget(socket, state);
      if (partial && socket.writable && socket.writableLength === 0) {
        socket.end(REQUEST_TIMEOUT_RESPONSE);
        // `end` waits for the peer only if it never reads; the FIN is sent, do not keep the socket.
        socket.once('finish', () => socket.destroy());
        setTimeout(() => socket.destroy(), 1_000).unref();
      } else {
        socket.destroy();
      }
    }, this.options.headersTimeoutMs);
    state.headersTimer.unref();
  }

  private clearHeadersTimer(state: SocketState): void {
    if (state.headersTimer !== null) clearTimeout(state.headersTimer);
    state.headersTimer = null;
  }

  private drop(socket: Socket, state: SocketState): void {
    this.forget(socket, state);
    socket.destroy();
  }

  /** Stops counting a socket: it no longer occupies a place under the cap. */
  private forget(socket: Socket, state: SocketState): void {
    state.closed = true;
    state.waiting.length = 0;
    this.clearHeadersTimer(state);
    if (this.sockets.get(socket) === state) this.sockets.delete(socket);
  }
}
