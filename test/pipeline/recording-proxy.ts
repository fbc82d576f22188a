/**
 * A recording HTTP proxy on 127.0.0.1 in front of a test registry: every request is forwarded
 * unchanged (the Host header too, so the registry's Location URLs point back at the proxy) and
 * recorded in arrival order with its method, path and, once answered, its status. Tests read the
 * order in which a client wrote manifests and tags.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  /** Arrival order, from 0. */
  seq: number;
  method: string;
  /** Path and query as sent. */
  url: string;
  /** Set when the registry answered. */
  status?: number;
  /** Order in which requests finished (the response was fully sent). */
  finished?: number;
}

export interface RecordingProxy {
  /** 127.0.0.1:PORT */
  host: string;
  requests: RecordedRequest[];
  /** Forget what was recorded so far. */
  clear(): void;
  close(): Promise<void>;
}

export async function startRecordingProxy(upstream: string): Promise<RecordingProxy> {
  const target = new URL(upstream);
  let requests: RecordedRequest[] = [];
  let seq = 0;
  let finished = 0;
  const server = createServer((req, res) => {
    const rec: RecordedRequest = { seq: seq++, method: req.method ?? '', url: req.url ?? '' };
    requests.push(rec);
    const up = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upRes) => {
        rec.status = upRes.statusCode;
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        res.on('finish', () => {
          rec.finished = finished++;
        });
      },
    );
    up.on('error', (e) => {
      rec.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(e));
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    clear() {
      requests = [];
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
