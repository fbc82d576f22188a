/**
 * Attestations in a real registry: cosign `.att` layers (DSSE envelopes) and referrer bundles,
 * verified with a predicate type filter and a CEL policy; the DSSE signature is cross-checked
 * with securesystemslib (Debian's python3-securesystemslib).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseEnvelope } from '../../src/attest/dsse.ts';
import { isVouchError } from '../../src/errors.ts';
import { compilePolicy, loadPolicyFile } from '../../src/policy/cel.ts';
import { appendAttachment, CosignAnnotation, readAttachments } from '../../src/sign/image/cosign-tags.ts';
import { attestImage } from '../../src/sign/image/sign.ts';
import { openImageTarget } from '../../src/sign/image/target.ts';
import { verifyImageAttestations } from '../../src/verify/attestation.ts';
import { REGISTRY_BIN, requireBinary, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { newKey, pushImage, run } from './helpers.ts';

const SLSA_V1 = 'https://slsa.dev/provenance/v1';
const TESTDATA = new URL('../../src/policy/testdata/', import.meta.url);
const skip = await requireBinary(REGISTRY_BIN);
const python = await sslibPython();
const pythonSkip =
  skip ||
  (python === undefined &&
    'python3-securesystemslib is not installed (apt-get install python3-securesystemslib)');
let reg: TestRegistry;
let dir: string;
const key = newKey();
const other = newKey();
let provenance: unknown;

/** A python3 with securesystemslib: pyenv and venvs often shadow Debian's, so try /usr/bin/python3 too. */
async function sslibPython(): Promise<string | undefined> {
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      await run(py, ['-c', 'import securesystemslib.keys']);
      return py;
    } catch {
      // next
    }
  }
  if (process.env.CI) throw new Error('python3-securesystemslib is required under CI');
  return undefined;
}

before(async () => {
  if (skip) return;
  reg = await startRegistry();
  dir = await mkdtemp(join(tmpdir(), 'vouch-attest-'));
  const statement = JSON.parse(await readFile(new URL('slsa-v1-github.json', TESTDATA), 'utf8')) as {
    predicate: unknown;
  };
  provenance = statement.predicate;
});
after(async () => {
  await reg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const target = (name: string) => openImageTarget(`${reg.host}/${name}`);

describe('attestations in a registry', { skip }, () => {
  test('.att (tag) and referrer attestations verify, filtered by type, checked by a CEL policy', async () => {
    const { descriptor } = await pushImage({ registry: reg.host, repository: 'att/app', tag: 'v1' });
    const t = await target('att/app:v1');
    try {
      const tagged = await attestImage(t.store, t.image, t.repository, {
        identity: { kind: 'key', key },
        predicateType: SLSA_V1,
        predicate: provenance,
      });
      assert.equal(tagged.location, `sha256-${descriptor.digest.slice(7)}.att`);
      const again = await attestImage(t.store, t.image, t.repository, {
        identity: { kind: 'key', key },
        predicateType: SLSA_V1,
        predicate: provenance,
      });
      assert.equal(again.added, false, 'the same statement by the same key is not stored twice');
      await attestImage(t.store, t.image, t.repository, {
        identity: { kind: 'key', key },
        predicateType: SLSA_V1,
        predicate: provenance,
        storage: 'referrers',
      });
      await attestImage(t.store, t.image, t.repository, {
        identity: { kind: 'key', key },
        predicateType: 'https://cyclonedx.org/bom',
        predicate: { bomFormat: 'CycloneDX', specVersion: '1.6', components: [] },
      });

      // The .att layer: cosign's media type and annotations, the envelope signed over PAE.
      const atts = (await readAttachments(t.store, descriptor.digest, 'att'))!;
      assert.equal(atts.layers.length, 2);
      const first = atts.layers[0]!;
      assert.equal(first.mediaType, 'application/vnd.dsse.envelope.v1+json');
      assert.deepEqual(first.annotations, {
        [CosignAnnotation.Signature]: '',
        [CosignAnnotation.PredicateType]: SLSA_V1,
      });
      const env = parseEnvelope(await t.store.readBlob(first, 1 << 24));
      const statement = JSON.parse(Buffer.from(env.payload).toString()) as Record<string, unknown>;
      assert.deepEqual(statement.subject, [
        { name: `${reg.host}/att/app`, digest: { sha256: descriptor.digest.slice(7) } },
      ]);

      const policy = await loadPolicyFile(new URL('github-release.yaml', TESTDATA).pathname);
      const v = await verifyImageAttestations(t.store, descriptor.digest, {
        trust: { kind: 'key', key },
        predicateType: SLSA_V1,
        policy,
      });
      assert.deepEqual(
        v.verified.map((a) => a.scheme),
        ['referrer', 'tag'],
      );
      for (const a of v.verified) assert.deepEqual(a.statement.predicate, provenance);

      const sboms = await verifyImageAttestations(t.store, descriptor.digest, {
        trust: { kind: 'key', key },
        predicateType: 'https://cyclonedx.org/bom',
      });
      assert.equal(sboms.verified.length, 1);
      assert.equal((sboms.verified[0]!.statement.predicate as { bomFormat: string }).bomFormat, 'CycloneDX');

      const all = await verifyImageAttestations(t.store, descriptor.digest, { trust: { kind: 'key', key } });
      assert.equal(all.verified.length, 3);

      await assert.rejects(
        verifyImageAttestations(t.store, descriptor.digest, {
          trust: { kind: 'key', key },
          predicateType: 'https://spdx.dev/Document',
        }),
        (e) => isVouchError(e, 'SIGNATURE_NOT_FOUND') && e.message.includes('https://spdx.dev/Document'),
      );
      await assert.rejects(
        verifyImageAttestations(t.store, descriptor.digest, {
          trust: { kind: 'key', key: other },
          predicateType: SLSA_V1,
        }),
        (e) => isVouchError(e, 'KEY_MISMATCH'),
        'the referrer bundle names its key: KEY_MISMATCH outranks the .att layer SIGNATURE_INVALID',
      );
      const strict = compilePolicy(
        [
          'apiVersion: vouch.dev/v1',
          'kind: AttestationPolicy',
          'rules:',
          '  - name: from-main',
          '    expression: predicate.buildDefinition.externalParameters.workflow.ref == "refs/heads/main"',
          '    message: built from main',
        ].join('\n'),
        'strict.yaml',
      );
      await assert.rejects(
        verifyImageAttestations(t.store, descriptor.digest, {
          trust: { kind: 'key', key },
          predicateType: SLSA_V1,
          policy: strict,
        }),
        (e) => isVouchError(e, 'POLICY_FAILED') && /rule "from-main": built from main/.test(e.message),
      );
    } finally {
      await t.store.close();
    }
  });

  test('an .att layer moved from another image is SUBJECT_MISMATCH', async () => {
    await pushImage({ registry: reg.host, repository: 'att/neg', tag: 'x' });
    await pushImage({ registry: reg.host, repository: 'att/neg', tag: 'y' });
    const x = await target('att/neg:x');
    const y = await target('att/neg:y');
    try {
      await attestImage(x.store, x.image, x.repository, {
        identity: { kind: 'key', key },
        predicateType: SLSA_V1,
        predicate: provenance,
      });
      const l = (await readAttachments(x.store, x.image.digest, 'att'))!.layers[0]!;
      await appendAttachment(y.store, y.image.digest, 'att', {
        mediaType: l.mediaType,
        payload: await x.store.readBlob(l, 1 << 24),
        annotations: l.annotations ?? {},
      });
      await assert.rejects(
        verifyImageAttestations(y.store, y.image.digest, {
          trust: { kind: 'key', key },
          predicateType: SLSA_V1,
        }),
        (e) => isVouchError(e, 'SUBJECT_MISMATCH') && e.message.includes(x.image.digest.slice(7)),
      );
    } finally {
      await x.store.close();
      await y.store.close();
    }
  });

  test(
    'securesystemslib verifies the .att envelope signature over the DSSE PAE',
    { skip: pythonSkip },
    async () => {
      await pushImage({ registry: reg.host, repository: 'att/sslib', tag: 'v1' });
      const t = await target('att/sslib:v1');
      try {
        await attestImage(t.store, t.image, t.repository, {
          identity: { kind: 'key', key },
          predicateType: SLSA_V1,
          predicate: provenance,
        });
        const l = (await readAttachments(t.store, t.image.digest, 'att'))!.layers[0]!;
        const envFile = join(dir, 'envelope.json');
        await writeFile(envFile, await t.store.readBlob(l, 1 << 24));
        const pubFile = join(dir, 'key.pub');
        await writeFile(pubFile, key.publicKeyPem);
        const script = [
          'import base64, json, sys',
          'from securesystemslib import keys',
          'env = json.load(open(sys.argv[1]))',
          'key = keys.import_ecdsakey_from_public_pem(open(sys.argv[2]).read())',
          "t = env['payloadType'].encode(); p = base64.b64decode(env['payload'])",
          "pae = b'DSSEv1 %d %s %d %s' % (len(t), t, len(p), p)",
          "sig = {'keyid': key['keyid'], 'sig': base64.b64decode(env['signatures'][0]['sig']).hex()}",
          'print(keys.verify_signature(key, sig, pae), keys.verify_signature(key, sig, pae + b" "))',
        ].join('\n');
        const { stdout } = await run(python!, ['-c', script, envFile, pubFile]);
        assert.equal(stdout.trim(), 'True False');
      } finally {
        await t.store.close();
      }
    },
  );
});
