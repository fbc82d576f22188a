/**
 * Test support only (not part of the public API): a small in-memory registry on node:http,
 * bound to 127.0.0.1, with a hook to inject what a real registry cannot be made to do on
 * demand (429, resets, lying headers, token services).
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface LoggedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

export type Hook = (
  req: IncomingMessage,
  res: ServerResponse,
  reg: MiniRegistry,
) => boolean | Promise<boolean>;

export interface Upload {
  repo: string;
  data: Buffer[];
  size: number;
}

export interface MiniRegistry {
  host: string;
  url: string;
  requests: LoggedRequest[];
  /** keyed `<repo>@<digest>`: blobs belong to repositories, as mounts need */
  blobs: Map<string, Buffer>;
  manifests: Map<string, { bytes: Buffer; mediaType: string }>;
  uploads: Map<string, Upload>;
  /** Sent as OCI-Chunk-Min-Length when an upload starts. */
  chunkMin: number | undefined;
  /** Runs first; return true when it answered the request itself. */
  hook: Hook | undefined;
  close(): Promise<void>;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ code, message }] }));
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  tls?: { key: string; cert: string },
): Promise<{ server: Server; host: string; url: string; close(): Promise<void> }> {
  const server = tls ? createHttps(tls, handler) : createHttp(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  return {
    server,
    host,
    url: `${tls ? 'https' : 'http'}://${host}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function startMiniRegistry(hook?: Hook): Promise<MiniRegistry> {
  const reg: MiniRegistry = {
    host: '',
    url: '',
    requests: [],
    blobs: new Map(),
    manifests: new Map(),
    uploads: new Map(),
    chunkMin: undefined,
    hook,
    close: async () => {},
  };
  const srv = await listen((req, res) => {
    reg.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    void handle(reg, req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'INTERNAL', String(e));
    });
  });
  reg.host = srv.host;
  reg.url = srv.url;
  reg.close = srv.close;
  return reg;
}

function uploadHeaders(id: string, u: Upload): Record<string, string> {
  return {
    location: `/v2/${u.repo}/blobs/uploads/${id}`,
    range: `0-${Math.max(0, u.size - 1)}`,
    'docker-upload-uuid': id,
    'content-length': '0',
  };
}

async function handle(reg: MiniRegistry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (reg.hook && (await reg.hook(req, res, reg))) return;
  const url = new URL(req.url ?? '/', reg.url);
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (path === '/v2/' || path === '/v2') {
    res.writeHead(200, { 'content-length': '0' }).end();
    return;
  }
  let m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/.exec(path);
  if (m) {
    const repo = m[1] ?? '';
    const id = m[2] ?? '';
    if (method === 'POST') {
      await readBody(req);
      const mount = url.searchParams.get('mount');
      const from = url.searchParams.get('from');
      const found = mount && from ? reg.blobs.get(`${from}@${mount}`) : undefined;
      if (mount && found) {
        reg.blobs.set(`${repo}@${mount}`, found);
        res.writeHead(201, { location: `/v2/${repo}/blobs/${mount}`, 'docker-content-digest': mount }).end();
        return;
      }
      const nid = randomUUID();
      const u: Upload = { repo, data: [], size: 0 };
      reg.uploads.set(nid, u);
      const min = reg.chunkMin ? { 'oci-chunk-min-length': String(reg.chunkMin) } : {};
      res.writeHead(202, { ...uploadHeaders(nid, u), ...min }).end();
      return;
    }
    const u = reg.uploads.get(id);
    if (!u) {
      await readBody(req);
      sendError(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown');
      return;
    }
    if (method === 'GET') {
      res.writeHead(204, uploadHeaders(id, u)).end();
      return;
    }
    if (method === 'DELETE') {
      reg.uploads.delete(id);
      res.writeHead(204).end();
      return;
    }
    if (method === 'PATCH') {
      const range = /^(\d+)-(\d+)$/.exec(String(req.headers['content-range'] ?? ''));
      if (range && Number(range[1]) !== u.size) {
        await readBody(req);
        sendError(res, 416, 'BLOB_UPLOAD_INVALID', `expected start ${u.size}`);
        return;
      }
      for await (const c of req) {
        u.data.push(c as Buffer);
        u.size += (c as Buffer).length;
      }
      res.writeHead(202, uploadHeaders(id, u)).end();
      return;
    }
    if (method === 'PUT') {
      const last = await readBody(req);
      u.data.push(last);
      const all = Buffer.concat(u.data);
      const want = url.searchParams.get('digest') ?? '';
      if (sha256(all) !== want) {
        sendError(res, 400, 'DIGEST_INVALID', 'digest did not match');
        return;
      }
      reg.blobs.set(`${u.repo}@${want}`, all);
      reg.uploads.delete(id);
      res.writeHead(201, { location: `/v2/${u.repo}/blobs/${want}`, 'docker-content-digest': want }).end();
      return;
    }
  }
  m = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(path);
  if (m) {
    const blob = reg.blobs.get(`${m[1]}@${m[2]}`);
    if (!blob) {
      if (method === 'HEAD') res.writeHead(404).end();
      else sendError(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    if (range && method === 'GET') {
      const start = Number(range[1]);
      res.writeHead(206, {
        'content-length': String(blob.length - start),
        'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}`,
      });
      res.end(blob.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': String(blob.length), 'docker-content-digest': m[2] ?? '' });
    res.end(method === 'HEAD' ? undefined : blob);
    return;
  }
  m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
  if (m) {
    const key = `${m[1]}@${m[2]}`;
    if (method === 'PUT') {
      const bytes = await readBody(req);
      const mediaType = String(req.headers['content-type'] ?? '');
      const d = sha256(bytes);
      reg.manifests.set(key, { bytes, mediaType });
      reg.manifests.set(`${m[1]}@${d}`, { bytes, mediaType });
      res.writeHead(201, { 'docker-content-digest': d, location: `/v2/${m[1]}/manifests/${d}` }).end();
      return;
    }
    const found = reg.manifests.get(key);
    if (!found) {
      if (method === 'HEAD') res.writeHead(404).end();
      else sendError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      return;
    }
    res.writeHead(200, {
      'content-type': found.mediaType,
      'content-length': String(found.bytes.length),
      'docker-content-digest': sha256(found.bytes),
    });
    res.end(method === 'HEAD' ? undefined : found.bytes);
    return;
  }
  m = /^\/v2\/(.+)\/tags\/list$/.exec(path);
  if (m && method === 'GET') {
    const prefix = `${m[1]}@`;
    const tags = [...reg.manifests.keys()]
      .filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes(':'))
      .map((k) => k.slice(prefix.length))
      .sort();
    const n = Number(url.searchParams.get('n') ?? 1000);
    const last = url.searchParams.get('last');
    const rest = last ? tags.filter((t) => t > last) : tags;
    const page = rest.slice(0, n);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (rest.length > n) {
      headers.link = `</v2/${m[1]}/tags/list?n=${n}&last=${page[page.length - 1]}>; rel="next"`;
    }
    res.writeHead(200, headers).end(JSON.stringify({ name: m[1], tags: page }));
    return;
  }
  sendError(res, 404, 'NOT_FOUND', `no route for ${method} ${path}`);
}
