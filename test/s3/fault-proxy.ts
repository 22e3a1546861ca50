/**
 * An HTTP fault proxy between an S3 client and radosgw (127.0.0.1, port 0). Every request is numbered
 * (`seq`, from 1) and checked against the rules in order; the first rule that matches and still has
 * uses left decides what happens to it:
 *   status  answer `status` without forwarding (the body is drained first, like a server that refuses)
 *   cut     forward the headers and the first `afterBytes` bytes of the body, then destroy both sockets
 *   cutResponse  forward the request, then pass on only `afterBytes` bytes of the response body
 *   delay   wait `ms` before forwarding (to slow a run down for kill tests)
 * A request no rule takes is forwarded as is. The SigV4 signature covers the Host header, so it is passed
 * on unchanged; `expect: 100-continue` is dropped (unsigned; Node's server already answered it).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number }
  | { kind: 'cut'; afterBytes: number }
  | { kind: 'cutResponse'; afterBytes: number }
  | { kind: 'delay'; ms: number };

export interface ProxiedRequest {
  seq: number;
  method: string;
  /** Path and query as the client sent them (path-style: `/bucket/key`). */
  url: string;
}

export interface FaultRule {
  when: (r: ProxiedRequest) => boolean;
  fault: Fault;
  /** How many requests this rule may take (default 1). */
  times?: number;
}

export interface FaultLogEntry extends ProxiedRequest {
  fault: Fault['kind'] | 'none';
}

export class FaultProxy {
  readonly log: FaultLogEntry[] = [];
  rules: FaultRule[] = [];
  private seq = 0;
  private readonly uses = new Map<FaultRule, number>();

  private constructor(
    private readonly server: http.Server,
    private readonly upstream: URL,
  ) {}

  static async start(upstream: string): Promise<FaultProxy> {
    const server = http.createServer();
    const proxy = new FaultProxy(server, new URL(upstream));
    server.on('request', (req, res) => proxy.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Replaces the rules and forgets how often the old ones fired; the request count goes on. */
  setRules(rules: FaultRule[]): void {
    this.rules = rules;
    this.uses.clear();
  }

  faultsFired(): number {
    return this.log.filter((e) => e.fault !== 'none').length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pick(r: ProxiedRequest): Fault | null {
    for (const rule of this.rules) {
      const used = this.uses.get(rule) ?? 0;
      if (used >= (rule.times ?? 1) || !rule.when(r)) continue;
      this.uses.set(rule, used + 1);
      return rule.fault;
    }
    return null;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const r: ProxiedRequest = { seq: ++this.seq, method: req.method ?? 'GET', url: req.url ?? '/' };
    const fault = this.pick(r);
    this.log.push({ ...r, fault: fault?.kind ?? 'none' });
    if (fault?.kind === 'status') {
      req.resume();
      req.on('end', () => {
        res.writeHead(fault.status, { 'content-type': 'application/xml', connection: 'close' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected ${fault.status}</Message></Error>`);
      });
      return;
    }
    const forward = (): void => this.forward(req, res, fault);
    if (fault?.kind === 'delay') setTimeout(forward, fault.ms);
    else forward();
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, fault: Fault | null): void {
    const headers = { ...req.headers };
    delete headers.expect;
    const up = http.request({ host: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url, headers });
    const kill = (): void => {
      up.destroy();
      res.socket?.destroy();
    };
    // A client that goes away mid-body (killed, or cut) must not leave radosgw a complete request.
    req.on('aborted', () => up.destroy());
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    up.on('error', () => res.socket?.destroy());
    up.on('response', (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      if (fault?.kind !== 'cutResponse') {
        ur.pipe(res);
        return;
      }
      let passed = 0;
      let cut = false;
      // The partial body must reach the client before the socket goes, or it is only a reset.
      const cutSoon = (): void => {
        if (cut) return;
        cut = true;
        setTimeout(kill, 20);
      };
      ur.on('data', (chunk: Buffer) => {
        if (cut) return;
        const room = fault.afterBytes - passed;
        res.write(chunk.subarray(0, room));
        passed += Math.min(room, chunk.length);
        if (passed >= fault.afterBytes) cutSoon();
      });
      ur.on('end', cutSoon);
    });
    if (fault?.kind !== 'cut') {
      req.pipe(up);
      return;
    }
    let sent = 0;
    req.on('data', (chunk: Buffer) => {
      if (sent >= fault.afterBytes) return;
      const room = fault.afterBytes - sent;
      up.write(chunk.subarray(0, room));
      sent += Math.min(room, chunk.length);
      // Let the partial body reach radosgw before both connections go.
      if (sent >= fault.afterBytes) setTimeout(kill, 20);
    });
    req.on('end', () => {
      if (sent < fault.afterBytes) setTimeout(kill, 20);
    });
  }
}
