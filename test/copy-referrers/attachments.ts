/**
 * Attachments built by hand as plain OCI manifests, the shapes cosign and the OCI 1.1 tools
 * write (interop.md §2): a legacy `.sig` manifest (simple-signing layer with a signature
 * annotation), a legacy `.att` manifest (DSSE layer) and referrer manifests with `subject` and
 * `artifactType` (a Sigstore bundle, an SPDX SBOM). Independent of vouch's signing code.
 */
import { randomBytes } from 'node:crypto';
import { type Digest, digestOf } from '../../src/digest/digest.ts';
import { MediaType } from '../../src/oci/media-types.ts';
import type { Reference } from '../../src/oci/reference.ts';
import type { Descriptor } from '../../src/oci/types.ts';
import type { RegistryClient } from '../../src/registry/client.ts';

export interface Built {
  descriptor: Descriptor;
  bytes: Uint8Array;
  /** blobs the manifest needs, by digest */
  blobs: Map<Digest, Uint8Array>;
}

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function blob(mediaType: string, bytes: Uint8Array, annotations?: Record<string, string>): Descriptor {
  return {
    mediaType,
    digest: digestOf(bytes),
    size: bytes.byteLength,
    ...(annotations ? { annotations } : {}),
  };
}

function built(manifest: Record<string, unknown>, blobs: [Descriptor, Uint8Array][]): Built {
  const bytes = enc(manifest);
  const descriptor: Descriptor = {
    mediaType: MediaType.OciManifest,
    digest: digestOf(bytes),
    size: bytes.byteLength,
  };
  if (typeof manifest.artifactType === 'string') descriptor.artifactType = manifest.artifactType;
  return { descriptor, bytes, blobs: new Map(blobs.map(([d, b]) => [d.digest, b])) };
}

export const EMPTY_JSON = new TextEncoder().encode('{}');
export const EMPTY: Descriptor = blob(MediaType.OciEmpty, EMPTY_JSON);

/** cosign's legacy signature manifest for `image` (the `.sig` tag's content). */
export function cosignSignature(image: Digest, repository: string): Built {
  const payload = enc({
    critical: {
      identity: { 'docker-reference': repository },
      image: { 'docker-manifest-digest': image },
      type: 'cosign container image signature',
    },
    optional: null,
  });
  const layer = blob('application/vnd.dev.cosign.simplesigning.v1+json', payload, {
    'dev.cosignproject.cosign/signature': randomBytes(70).toString('base64'),
  });
  const config = enc({
    architecture: '',
    created: '0001-01-01T00:00:00Z',
    history: [{ created: '0001-01-01T00:00:00Z' }],
    os: '',
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
    config: {},
  });
  const configDesc = blob(MediaType.OciConfig, config);
  return built({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: [layer] }, [
    [configDesc, config],
    [layer, payload],
  ]);
}

/** cosign's legacy attestation manifest (the `.att` tag's content): one DSSE envelope layer. */
export function cosignAttestation(image: Digest): Built {
  const statement = enc({
    _type: 'https://in-toto.io/Statement/v0.1',
    predicateType: 'https://slsa.dev/provenance/v0.2',
    subject: [{ name: 'app', digest: { sha256: image.slice(7) } }],
    predicate: { builder: { id: 'https://example.com/builder' } },
  });
  const envelope = enc({
    payloadType: 'application/vnd.in-toto+json',
    payload: Buffer.from(statement).toString('base64'),
    signatures: [{ keyid: '', sig: randomBytes(70).toString('base64') }],
  });
  const layer = blob('application/vnd.dsse.envelope.v1+json', envelope, {
    predicateType: 'https://slsa.dev/provenance/v0.2',
  });
  const config = enc({
    architecture: '',
    os: '',
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
    config: {},
  });
  const configDesc = blob(MediaType.OciConfig, config);
  return built({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: [layer] }, [
    [configDesc, config],
    [layer, envelope],
  ]);
}

/** An OCI 1.1 referrer: empty config, one layer of `artifactType`, `subject` = the subject. */
export function referrer(
  subject: Descriptor,
  artifactType: string,
  content: Uint8Array,
  note: string,
): Built {
  const layer = blob(artifactType, content);
  const { mediaType, digest, size } = subject;
  return built(
    {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType,
      config: EMPTY,
      layers: [layer],
      subject: { mediaType, digest, size },
      annotations: { 'org.opencontainers.image.created': '2025-03-04T10:15:40Z', note },
    },
    [
      [EMPTY, EMPTY_JSON],
      [layer, content],
    ],
  );
}

export const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const SPDX_TYPE = 'application/spdx+json';

export function bundleReferrer(subject: Descriptor): Built {
  const bundle = enc({
    mediaType: BUNDLE_TYPE,
    verificationMaterial: { publicKey: { hint: randomBytes(8).toString('hex') }, tlogEntries: [] },
    messageSignature: {
      messageDigest: {
        algorithm: 'SHA2_256',
        digest: Buffer.from(subject.digest.slice(7), 'hex').toString('base64'),
      },
      signature: randomBytes(70).toString('base64'),
    },
  });
  return referrer(subject, BUNDLE_TYPE, bundle, 'bundle');
}

export function sbomReferrer(subject: Descriptor): Built {
  const sbom = enc({
    spdxVersion: 'SPDX-2.3',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: 'app',
    packages: [{ name: 'busybox', versionInfo: '1.36.1', SPDXID: 'SPDXRef-busybox' }],
    nonce: randomBytes(8).toString('hex'),
  });
  return referrer(subject, SPDX_TYPE, sbom, 'sbom');
}

/** Push blobs then the manifest, by tag (cosign's scheme) or by digest. */
export async function pushBuilt(
  client: RegistryClient,
  repo: Reference,
  b: Built,
  tag?: string,
): Promise<void> {
  for (const [digest, bytes] of b.blobs) {
    const d = { mediaType: 'application/octet-stream', digest, size: bytes.byteLength };
    await client.putBlob(repo, d, async () => once(bytes));
  }
  const at: Reference = {
    registry: repo.registry,
    repository: repo.repository,
    ...(tag ? { tag } : { digest: b.descriptor.digest }),
  };
  await client.putManifest(at, b.bytes, b.descriptor.mediaType);
}

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}
