/**
 * Test support only: Sigstore services on 127.0.0.1 built from @sigstore/mock's handler factories
 * (Fulcio with its CT log, Rekor v1, optionally a TSA), each on its own node:http server, plus
 * the trusted_root.json that trusts exactly their keys, and a stand-in for GitHub Actions' OIDC
 * token endpoint.
 *
 * Where the mock is made closer to the real services:
 * - Fulcio checks the token's `exp` and `aud` (sigstore) and the proof of possession (a
 *   signature over the token's email, else sub, with the submitted key), and puts the SAN real
 *   Fulcio would: `https://github.com/<job_workflow_ref>` for GitHub Actions tokens, else the
 *   email, else sub. Tokens with GitHub claims get the GitHub workflow extensions (OIDs
 *   1.3.6.1.4.1.57264.1.2-6 and 1.8-22, from @sigstore/mock). Limits: the SAN is always a URI
 *   SAN (real Fulcio writes an rfc822Name for emails) and the token's signature is not checked.
 * - Rekor turns a proposed `dsse` entry into the canonical body real Rekor logs (envelopeHash,
 *   payloadHash, signatures[{signature, verifier}]) after checking every signature, so DSSE
 *   bundles verify with @sigstore/verify; hashedrekord entries are logged as proposed
 *   (their signature is not checked). Inclusion proofs are for a one-entry tree.
 * - Every certificate, SCT, tlog entry and timestamp carries one whole-second time (`time`),
 *   after the mock's CA and TSA certificates begin: @sigstore/core rejects the fractional
 *   seconds the mock TSA would otherwise write now and then.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  fulcioHandler,
  type HandlerFn,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
} from '@sigstore/mock';
import type { TrustedRootDocument } from '../../src/sigstore/types.ts';

export const MOCK_ISSUER = 'https://oidc.sigstore-mock.test';
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';
/** The claim the wrapped Fulcio writes the computed SAN into for @sigstore/mock to pick up. */
const SAN_CLAIM = 'x-vouch-mock-san';

export const MOCK_SERVICES = ['fulcio', 'rekor', 'tsa'] as const;
export type MockService = (typeof MOCK_SERVICES)[number];

export interface MockRequest {
  service: MockService;
  method: string;
  path: string;
}

export interface Failure {
  status: number;
  message: string;
}

export interface SigstoreMock {
  fulcioUrl: string;
  rekorUrl: string;
  /** Set when started with `{ tsa: true }`. */
  tsaUrl: string | undefined;
  /** trusted_root.json (proto3 JSON) trusting the mock's CA, CT log, Rekor and TSA keys. */
  trustedRoot: TrustedRootDocument;
  /** The signing time every service reports (whole second). */
  time: Date;
  /** An unsigned-but-well-formed JWT the mock Fulcio accepts; default claims: an email identity. */
  identityToken(claims?: Record<string, unknown>): string;
  /** Method and path of every request (never bodies: they hold tokens). */
  requests: MockRequest[];
  /** Answer every request to `service` with this error from now on; undefined = normal again. */
  fail(service: MockService, failure: Failure | undefined): void;
  close(): Promise<void>;
}

export interface SigstoreMockOptions {
  tsa?: boolean;
}

export const DEFAULT_IDENTITY = {
  iss: MOCK_ISSUER,
  sub: 'signer@example.com',
  email: 'signer@example.com',
  email_verified: true,
} as const;

/** GitHub Actions-like OIDC claims (as in a job's token), for a workflow in `owner/repo`. */
export function githubActionsClaims(
  o: {
    repository?: string;
    ref?: string;
    sha?: string;
    workflowPath?: string;
    event?: string;
    extra?: Record<string, unknown>;
  } = {},
): Record<string, unknown> {
  const repository = o.repository ?? 'octo-org/app';
  const ref = o.ref ?? 'refs/heads/main';
  const sha = o.sha ?? 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
  const workflowRef = `${repository}/${o.workflowPath ?? '.github/workflows/release.yml'}@${ref}`;
  const [owner] = repository.split('/');
  return {
    iss: GITHUB_ACTIONS_ISSUER,
    sub: `repo:${repository}:ref:${ref}`,
    repository,
    repository_owner: owner,
    repository_id: '123456789',
    repository_owner_id: '987654',
    repository_visibility: 'public',
    ref,
    ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    sha,
    workflow: 'release',
    workflow_ref: workflowRef,
    workflow_sha: sha,
    job_workflow_ref: workflowRef,
    job_workflow_sha: sha,
    event_name: o.event ?? 'push',
    run_id: '4242',
    run_attempt: '1',
    runner_environment: 'github-hosted',
    ...o.extra,
  };
}

/** A compact JWT with a random (meaningless) signature part. */
export function makeJwt(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'ES256', typ: 'JWT', kid: 'sigstore-mock' })}.${part(claims)}.${randomBytes(64).toString('base64url')}`;
}

function decodeJwtPayload(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

type Route = (body: string) => ReturnType<HandlerFn>;

interface Listening {
  server: Server;
  url: string;
  close(): Promise<void>;
}

async function listenLocal(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listening> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const b64 = (b: ArrayBufferView | Buffer) =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

export async function startSigstoreMock(o: SigstoreMockOptions = {}): Promise<SigstoreMock> {
  const requests: MockRequest[] = [];
  const failures = new Map<MockService, Failure>();
  const routes = new Map<MockService, Map<string, Route>>();

  const serve = (service: MockService) =>
    listenLocal((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      requests.push({ service, method: req.method ?? '', path });
      void (async () => {
        const body = await readBody(req);
        const failure = failures.get(service);
        if (failure) return sendJson(res, failure.status, { code: failure.status, message: failure.message });
        const route = req.method === 'POST' ? routes.get(service)?.get(path) : undefined;
        if (!route) return sendJson(res, 404, { code: 404, message: `no route for ${req.method} ${path}` });
        const r = await route(body);
        res.writeHead(r.statusCode, { 'content-type': r.contentType ?? 'text/plain' });
        res.end(typeof r.response === 'string' ? r.response : Buffer.from(r.response.buffer));
      })().catch((e: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { code: 500, message: String(e) });
      });
    });

  const servers: Listening[] = [await serve('fulcio'), await serve('rekor')];
  const tsaServer = o.tsa ? await serve('tsa') : undefined;
  if (tsaServer) servers.push(tsaServer);
  const [fulcioServer, rekorServer] = servers as [Listening, Listening];

  // One clock for every service, set once the CA and TSA certificates exist (see top comment).
  const clock = new Date(0);
  const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ctlog = await initializeCTLog(p256(), clock);
  const ca = await initializeCA(p256(), ctlog, clock);
  const tlog = await initializeTLog(rekorServer.url, p256(), clock);
  const tsa = tsaServer ? await initializeTSA(p256(), clock) : undefined;
  clock.setTime(Math.floor(Date.now() / 1000) * 1000);

  const fulcio = fulcioHandler(ca, { subjectClaim: SAN_CLAIM });
  routes.set('fulcio', new Map([[fulcio.path, (body) => fulcioRoute(body, fulcio.fn)]]));
  const rekor = rekorHandler(tlog);
  routes.set('rekor', new Map([[rekor.path, (body) => rekorRoute(body, rekor.fn)]]));
  if (tsa) {
    const t = tsaHandler(tsa);
    routes.set('tsa', new Map([[t.path, t.fn]]));
  }

  const start = new Date(clock.getTime() - 60_000).toISOString();
  const trustedRoot: TrustedRootDocument = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: rekorServer.url,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: b64(tlog.publicKey),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start },
        },
        logId: { keyId: createHash('sha256').update(tlog.publicKey).digest('base64') },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: fulcioServer.url,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: { start },
      },
    ],
    ctlogs: [
      {
        baseUrl: fulcioServer.url,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: b64(ctlog.publicKey),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start },
        },
        logId: { keyId: b64(ctlog.logID) },
      },
    ],
    timestampAuthorities: tsa
      ? [
          {
            subject: { organization: 'sigstore.mock', commonName: 'tsa' },
            uri: tsaServer?.url,
            // The signing (intermediate) certificate first, then the root.
            certChain: {
              certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }],
            },
            validFor: { start },
          },
        ]
      : [],
  };

  return {
    fulcioUrl: fulcioServer.url,
    rekorUrl: rekorServer.url,
    tsaUrl: tsaServer?.url,
    trustedRoot,
    time: new Date(clock.getTime()),
    identityToken(claims: Record<string, unknown> = DEFAULT_IDENTITY) {
      const now = Math.floor(Date.now() / 1000);
      return makeJwt({ iss: MOCK_ISSUER, aud: 'sigstore', iat: now, nbf: now, exp: now + 600, ...claims });
    },
    requests,
    fail(service, failure) {
      if (failure) failures.set(service, failure);
      else failures.delete(service);
    },
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

/** What real Fulcio refuses with: gRPC-gateway JSON `{code, message}`. */
function refuse(status: number, message: string) {
  return {
    statusCode: status,
    response: JSON.stringify({ code: status, message }),
    contentType: 'application/json',
  };
}

async function fulcioRoute(body: string, inner: HandlerFn): ReturnType<HandlerFn> {
  let request: {
    credentials?: { oidcIdentityToken?: string };
    publicKeyRequest?: { publicKey?: { content?: string }; proofOfPossession?: string };
  };
  let claims: Record<string, unknown>;
  try {
    request = JSON.parse(body) as typeof request;
    claims = decodeJwtPayload(request.credentials?.oidcIdentityToken ?? '');
  } catch {
    return refuse(400, 'malformed request or identity token');
  }
  const exp = claims.exp;
  if (typeof exp !== 'number' || exp * 1000 < Date.now()) {
    return refuse(401, 'There was an error processing the identity token (expired)');
  }
  const aud = claims.aud;
  if (!(aud === 'sigstore' || (Array.isArray(aud) && aud.includes('sigstore')))) {
    return refuse(401, 'There was an error processing the identity token (audience)');
  }
  const subject = typeof claims.email === 'string' ? claims.email : claims.sub;
  const pem = request.publicKeyRequest?.publicKey?.content;
  const proof = request.publicKeyRequest?.proofOfPossession;
  if (typeof subject !== 'string' || !pem || !proof) return refuse(400, 'missing subject, key or proof');
  let proven = false;
  try {
    proven = verify('sha256', Buffer.from(subject), createPublicKey(pem), Buffer.from(proof, 'base64'));
  } catch {
    proven = false;
  }
  if (!proven) return refuse(400, 'The signature supplied in the request could not be verified');
  const githubWorkflow =
    claims.iss === GITHUB_ACTIONS_ISSUER && typeof claims.job_workflow_ref === 'string'
      ? `https://github.com/${claims.job_workflow_ref}`
      : undefined;
  const san = githubWorkflow ?? subject;
  const forwarded = {
    ...request,
    credentials: { oidcIdentityToken: makeJwt({ ...claims, [SAN_CLAIM]: san }) },
  };
  return inner(JSON.stringify(forwarded));
}

interface ProposedDsse {
  kind?: string;
  apiVersion?: string;
  spec?: { proposedContent?: { envelope?: string; verifiers?: string[] } };
}

function pae(type: string, payload: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.byteLength} `),
    payload,
  ]);
}

/** The canonical body real Rekor logs for a proposed dsse v0.0.1 entry. */
function canonicalDsse(proposed: NonNullable<ProposedDsse['spec']>['proposedContent']): object {
  const envelopeText = proposed?.envelope ?? '';
  const envelope = JSON.parse(envelopeText) as {
    payloadType: string;
    payload: string;
    signatures: { sig: string }[];
  };
  const payload = Buffer.from(envelope.payload, 'base64');
  const signed = pae(envelope.payloadType, payload);
  const signatures = envelope.signatures.map(({ sig }) => {
    const verifier = (proposed?.verifiers ?? []).find((v) => {
      try {
        const key = createPublicKey(Buffer.from(v, 'base64').toString('utf8'));
        const alg = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
        return verify(alg, signed, key, Buffer.from(sig, 'base64'));
      } catch {
        return false;
      }
    });
    if (!verifier) throw new Error('all signatures must have a key that verifies it');
    return { signature: sig, verifier };
  });
  signatures.sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(envelopeText) },
      payloadHash: { algorithm: 'sha256', value: sha256(payload) },
      signatures,
    },
  };
}

async function rekorRoute(body: string, inner: HandlerFn): ReturnType<HandlerFn> {
  let entry: ProposedDsse;
  try {
    entry = JSON.parse(body) as ProposedDsse;
  } catch {
    return refuse(400, 'malformed proposed entry');
  }
  if (entry.kind === 'dsse' && entry.spec?.proposedContent) {
    try {
      return inner(JSON.stringify(canonicalDsse(entry.spec.proposedContent)));
    } catch (e) {
      return refuse(400, (e as Error).message);
    }
  }
  return inner(body);
}

export interface GithubTokenServer {
  /** ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN as the runner sets them. */
  env: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  /** Audience asked for in each request (null when none). */
  audiences: (string | null)[];
  close(): Promise<void>;
}

/**
 * A stand-in for the GitHub Actions OIDC token endpoint: checks the bearer request token and
 * answers `{"value": token(audience)}` like the runner service.
 */
export async function startGithubTokenServer(
  token: (audience: string | null) => string,
): Promise<GithubTokenServer> {
  const requestToken = randomBytes(16).toString('hex');
  const audiences: (string | null)[] = [];
  const srv = await listenLocal((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization?.toLowerCase() !== `bearer ${requestToken}`) {
      return sendJson(res, 401, { message: 'bad request token' });
    }
    const audience = url.searchParams.get('audience');
    audiences.push(audience);
    sendJson(res, 200, { count: 1, value: token(audience) });
  });
  return {
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${srv.url}/_apis/distributedtask/hubs/Actions/plans/p1/jobs/j1/idtoken?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    },
    audiences,
    close: srv.close,
  };
}
