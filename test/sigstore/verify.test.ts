/**
 * verifyBundle beyond the conformance suite: one failing case per reason, each with its own
 * code. Real public-good bundles from the conformance data are edited field by field; bundles
 * with identities no public CA would certify (look-alike emails, missing issuer claims) come
 * from a private in-process Sigstore instance (helpers/instance.ts).
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { type ErrorCode, isVouchError } from '../../src/errors.ts';
import { verificationKeyFromKeyObject } from '../../src/sign/keys/signing-key.ts';
import { publicGoodTrustedRoot } from '../../src/sigstore/trust-root.ts';
import type { Artifact, BundleVerifyOptions, IdentityPolicy } from '../../src/sigstore/types.ts';
import { verifyBundle } from '../../src/sigstore/verify.ts';
import {
  BEACON,
  CONFORMANCE,
  conformanceBundle,
  conformancePresent,
  GITHUB_ISSUER,
} from './helpers/conformance.ts';
import {
  createInstance,
  dsseBundle,
  ecKeyPair,
  keyHint,
  keylessSigner,
  type LeafOptions,
  messageBundle,
  T0,
} from './helpers/instance.ts';
import type { BundleJson, TrustedRootJson } from './helpers/json.ts';

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isVouchError(e), `expected a VouchError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// ---- on real public-good bundles (conformance data) ----

const skipReal = conformancePresent ? false : `${CONFORMANCE} is missing`;
const real = conformanceBundle;

async function verifyReal(
  bundle: BundleJson,
  artifact: Artifact | undefined,
  o: Partial<BundleVerifyOptions> = {},
): Promise<Awaited<ReturnType<typeof verifyBundle>>> {
  return verifyBundle(bundle, artifact, { trustedRoot: await publicGoodTrustedRoot(), ...o });
}

const GOOD: IdentityPolicy = { identity: BEACON, issuer: GITHUB_ISSUER };

describe('public-good bundles, edited', { skip: skipReal }, () => {
  test('the unedited bundle verifies and reports the signer and its time', async () => {
    const { bundle, artifact } = real('happy-path-v0.3');
    const r = await verifyReal(bundle, { bytes: artifact }, { identity: GOOD });
    assert.equal(r.content, 'message-signature');
    assert.equal(r.signer.kind, 'certificate');
    assert.equal(r.signer.kind === 'certificate' && r.signer.claims.issuer, GITHUB_ISSUER);
    assert.equal(r.tlogEntries, 1);
    assert.deepEqual(
      r.timestamps.map((t) => t.source),
      ['transparency-log'],
    );
  });

  test('an identity that is only part of the SAN is refused, exact or as a regexp', async () => {
    const { bundle, artifact } = real('happy-path-v0.3');
    const part = 'sigstore-conformance/extremely-dangerous-public-oidc-beacon';
    await rejectsWith(
      verifyReal(bundle, { bytes: artifact }, { identity: { identity: part, issuer: GITHUB_ISSUER } }),
      'IDENTITY_MISMATCH',
      /does not match the required/,
    );
    await rejectsWith(
      verifyReal(bundle, { bytes: artifact }, { identity: { identityRegexp: part, issuer: GITHUB_ISSUER } }),
      'IDENTITY_MISMATCH',
    );
    // An anchored pattern that covers the whole SAN is accepted.
    const r = await verifyReal(
      bundle,
      { bytes: artifact },
      {
        identity: {
          identityRegexp:
            'https://github\\.com/sigstore-conformance/[^/]+/\\.github/workflows/.+@refs/heads/main',
          issuer: GITHUB_ISSUER,
        },
      },
    );
    assert.equal(r.signer.kind, 'certificate');
  });

  test('a wrong issuer, or an issuer regexp matching only part of it, is ISSUER_MISMATCH', async () => {
    const { bundle, artifact } = real('happy-path-v0.3');
    await rejectsWith(
      verifyReal(
        bundle,
        { bytes: artifact },
        { identity: { identity: BEACON, issuer: 'https://accounts.google.com' } },
      ),
      'ISSUER_MISMATCH',
      /"https:\/\/token\.actions\.githubusercontent\.com" does not match the required "https:\/\/accounts\.google\.com"/,
    );
    await rejectsWith(
      verifyReal(
        bundle,
        { bytes: artifact },
        { identity: { identity: BEACON, issuerRegexp: 'token\\.actions\\.githubusercontent\\.com' } },
      ),
      'ISSUER_MISMATCH',
    );
  });

  test('GitHub workflow claims are compared exactly (CERTIFICATE_CLAIM_MISMATCH)', async () => {
    const { bundle, artifact } = real('happy-path-intoto-in-dsse-v3');
    const ok = await verifyReal(
      bundle,
      { bytes: artifact },
      {
        identity: {
          ...GOOD,
          github: {
            repository: 'sigstore-conformance/extremely-dangerous-public-oidc-beacon',
            ref: 'refs/heads/main',
            trigger: 'workflow_dispatch',
          },
        },
      },
    );
    assert.equal(ok.content, 'dsse-envelope');
    await rejectsWith(
      verifyReal(
        bundle,
        { bytes: artifact },
        { identity: { ...GOOD, github: { repository: 'sigstore-conformance' } } },
      ),
      'CERTIFICATE_CLAIM_MISMATCH',
      /repository \(1\.3\.6\.1\.4\.1\.57264\.1\.5\) is "sigstore-conformance\/extremely-dangerous-public-oidc-beacon"/,
    );
  });

  test('a certificate bundle without an identity policy is a USAGE error unless explicitly allowed', async () => {
    const { bundle, artifact } = real('happy-path-v0.3');
    await rejectsWith(verifyReal(bundle, { bytes: artifact }), 'USAGE', /say who must have signed/);
    await rejectsWith(
      verifyReal(bundle, { bytes: artifact }, { identity: { identity: BEACON } }),
      'USAGE',
      /issuer/,
    );
    const r = await verifyReal(bundle, { bytes: artifact }, { allowAnyIdentity: true });
    assert.equal(r.signer.kind === 'certificate' && r.signer.claims.subjectAlternativeName, BEACON);
  });

  test('a tampered DSSE payload is SIGNATURE_INVALID', async () => {
    const { bundle, artifact } = real('happy-path-intoto-in-dsse-v3');
    const env = bundle.dsseEnvelope!;
    const payload = Buffer.from(env.payload, 'base64').toString('utf8');
    env.payload = Buffer.from(payload.replace('"a.txt"', '"b.txt"')).toString('base64');
    await rejectsWith(
      verifyReal(bundle, { bytes: artifact }, { identity: GOOD }),
      'SIGNATURE_INVALID',
      /DSSE/,
    );
  });

  test('a bundle for another artifact digest is SUBJECT_MISMATCH; a forged digest is SIGNATURE_INVALID', async () => {
    const { bundle } = real('happy-path-v0.3');
    const other = Buffer.from('not the signed file\n');
    await rejectsWith(
      verifyReal(bundle, { bytes: other }, { identity: GOOD }),
      'SUBJECT_MISMATCH',
      new RegExp(`artifact is sha256:${sha256hex(other)}`),
    );
    // Rewriting messageDigest to the other file's digest leaves a signature over the first file.
    bundle.messageSignature!.messageDigest!.digest = createHash('sha256').update(other).digest('base64');
    await rejectsWith(verifyReal(bundle, { bytes: other }, { identity: GOOD }), 'SIGNATURE_INVALID');
  });

  test('an in-toto statement that does not name the artifact is SUBJECT_MISMATCH', async () => {
    const { bundle } = real('happy-path-intoto-in-dsse-v3');
    await rejectsWith(
      verifyReal(bundle, { bytes: Buffer.from('other') }, { identity: GOOD }),
      'SUBJECT_MISMATCH',
      /subjects: a\.txt sha256:a0cfc712/,
    );
    // No artifact: the caller checks the statement itself; a digest works as well as bytes.
    const r = await verifyReal(bundle, undefined, { identity: GOOD });
    assert.match(
      Buffer.from(r.payload!.bytes).toString('utf8'),
      /"_type":"https:\/\/in-toto\.io\/Statement\/v1"/,
    );
    await verifyReal(
      bundle,
      { sha256: 'A0CFC71271D6E278E57CD332FF957C3F7043FDDA354C4CBB190A30D56EFA01BF' },
      { identity: GOOD },
    );
  });

  test('a missing transparency log entry, or a v0.3 entry without its proof, is TLOG_INVALID', async () => {
    const { bundle, artifact } = real('happy-path-v0.3');
    const noEntry = structuredClone(bundle);
    noEntry.verificationMaterial.tlogEntries = [];
    await rejectsWith(
      verifyReal(noEntry, { bytes: artifact }, { identity: GOOD }),
      'TLOG_INVALID',
      /0 transparency log entries, 1 required/,
    );
    const noProof = structuredClone(bundle);
    delete noProof.verificationMaterial.tlogEntries[0]!.inclusionProof;
    await rejectsWith(
      verifyReal(noProof, { bytes: artifact }, { identity: GOOD }),
      'TLOG_INVALID',
      /tlogEntries\[0\]\.inclusionProof is missing: a v0\.3 bundle proves log inclusion with an inclusion proof/,
    );
    // v0.1 bundles only promise inclusion: the SET alone carries them.
    const v01 = real('happy-path-v0.1');
    delete v01.bundle.verificationMaterial.tlogEntries[0]!.inclusionProof;
    const r = await verifyReal(v01.bundle, { bytes: v01.artifact }, { identity: GOOD });
    assert.equal(r.tlogEntries, 1);
  });

  test('a corrupted SET is TLOG_INVALID', async () => {
    const { bundle, artifact } = real('happy-path-v0.3');
    const promise = bundle.verificationMaterial.tlogEntries[0]!.inclusionPromise!;
    const set = Buffer.from(promise.signedEntryTimestamp, 'base64');
    set.writeUInt8(set.readUInt8(set.length - 1) ^ 1, set.length - 1);
    promise.signedEntryTimestamp = set.toString('base64');
    await rejectsWith(verifyReal(bundle, { bytes: artifact }, { identity: GOOD }), 'TLOG_INVALID', /SET/);
  });

  test('a key bundle checked with another valid key is KEY_MISMATCH', async () => {
    const { bundle, artifact } = real('managed-key-happy-path');
    const other = verificationKeyFromKeyObject(ecKeyPair().publicKey);
    await rejectsWith(
      verifyReal(bundle, { bytes: artifact }, { key: other }),
      'KEY_MISMATCH',
      /another key \(bundle key hint TLMsSDfG3ajPsWge\+z\/vX5T\/zluXnmvbkTkwLIV68Tk=/,
    );
    // A certificate bundle is not verified with a key, and a key bundle carries no identity.
    const keyless = real('happy-path-v0.3');
    await rejectsWith(
      verifyReal(keyless.bundle, { bytes: keyless.artifact }, { key: other }),
      'KEY_MISMATCH',
    );
    const pem = readFileSync(join(CONFORMANCE, 'managed-key-happy-path', 'key.pub'), 'utf8');
    const { createPublicKey } = await import('node:crypto');
    const right = verificationKeyFromKeyObject(createPublicKey(pem));
    await rejectsWith(
      verifyReal(bundle, { bytes: artifact }, { key: right, identity: GOOD }),
      'IDENTITY_MISMATCH',
    );
    const r = await verifyReal(bundle, { bytes: artifact }, { key: right });
    assert.deepEqual(r.signer, { kind: 'key', hint: right.hint });
  });

  test('a message signature cannot be verified from a digest alone', async () => {
    const { bundle, artifact } = real('happy-path-v0.3');
    await rejectsWith(
      verifyReal(bundle, { sha256: sha256hex(artifact) }, { identity: GOOD }),
      'USAGE',
      /bytes/,
    );
    await rejectsWith(
      verifyReal(bundle, { sha256: '00'.repeat(32) }, { identity: GOOD }),
      'SUBJECT_MISMATCH',
    );
    await rejectsWith(verifyReal(bundle, undefined, { identity: GOOD }), 'USAGE');
  });

  test('thresholds: a required RFC 3161 timestamp that is absent is TIMESTAMP_INVALID', async () => {
    const { bundle, artifact } = real('happy-path-v0.3');
    await rejectsWith(
      verifyReal(bundle, { bytes: artifact }, { identity: GOOD, timestampThreshold: 1 }),
      'TIMESTAMP_INVALID',
      /0 RFC 3161 timestamps, 1 required/,
    );
    await rejectsWith(
      verifyReal(bundle, { bytes: artifact }, { identity: GOOD, tlogThreshold: -1 }),
      'USAGE',
    );
    // Two copies of one entry do not make two.
    const dup = structuredClone(bundle);
    dup.verificationMaterial.tlogEntries.push(dup.verificationMaterial.tlogEntries[0]!);
    await rejectsWith(
      verifyReal(dup, { bytes: artifact }, { identity: GOOD, tlogThreshold: 2 }),
      'TLOG_INVALID',
    );
  });
});

// ---- on a private instance ----

describe('private instance: identities no public CA would issue', () => {
  const inst = createInstance();
  const root = inst.trustedRoot();
  const artifact = Buffer.from('release tarball\n');
  const ISSUER = 'https://issuer.vouch.test';
  const sign = (leaf: LeafOptions) => messageBundle(artifact, keylessSigner(inst, leaf), { log: inst.log });
  const verify = (
    bundle: BundleJson,
    identity: IdentityPolicy | undefined,
    o: Partial<BundleVerifyOptions> = {},
  ) =>
    verifyBundle(bundle, { bytes: artifact }, { trustedRoot: root, ...(identity ? { identity } : {}), ...o });

  test('evil-user@example.com is not user@example.com, exactly or by regexp', async () => {
    const evil = sign({ san: { email: 'evil-user@example.com' } });
    await rejectsWith(
      verify(evil, { identity: 'user@example.com', issuer: ISSUER }),
      'IDENTITY_MISMATCH',
      /"evil-user@example\.com" does not match the required "user@example\.com"/,
    );
    await rejectsWith(
      verify(evil, { identityRegexp: 'user@example\\.com', issuer: ISSUER }),
      'IDENTITY_MISMATCH',
    );
    const good = sign({ san: { email: 'user@example.com' } });
    for (const identity of [
      { identity: 'user@example.com', issuer: ISSUER },
      { identityRegexp: 'user@example\\.com', issuerRegexp: 'https://issuer\\.vouch\\.test' },
      { identityRegexp: '(?i)USER@EXAMPLE\\.COM', issuer: ISSUER },
    ]) {
      const r = await verify(good, identity);
      assert.equal(
        r.signer.kind === 'certificate' && r.signer.claims.subjectAlternativeName,
        'user@example.com',
      );
    }
  });

  test("why vouch matches identities itself: @sigstore/verify's string policy admits the look-alike", async () => {
    const evil = sign({ san: { email: 'evil-user@example.com' } });
    const b = bundleFromJSON(evil);
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root)));
    const signer = verifier.verify(toSignedEntity(b, artifact), {
      subjectAlternativeName: 'user@example.com',
      extensions: { issuer: ISSUER },
    });
    assert.equal(signer.identity?.subjectAlternativeName, 'evil-user@example.com'); // the defect
  });

  test('the Fulcio OtherName SAN (username) identifies the signer when there is no URI or email', async () => {
    const b = sign({ san: { otherName: 'user!example.com' } });
    const r = await verify(b, { identity: 'user!example.com', issuer: ISSUER });
    assert.equal(
      r.signer.kind === 'certificate' && r.signer.claims.subjectAlternativeName,
      'user!example.com',
    );
  });

  test('the issuer comes from 1.8 (DER) before 1.1 (raw); a certificate with neither fails ISSUER_MISMATCH', async () => {
    const both = sign({ san: { email: 'user@example.com' }, issuerV1: 'https://old.vouch.test' });
    const r = await verify(both, { identity: 'user@example.com', issuer: ISSUER });
    assert.equal(r.signer.kind === 'certificate' && r.signer.claims.issuer, ISSUER);
    const v1only = sign({
      san: { email: 'user@example.com' },
      issuer: null,
      issuerV1: 'https://old.vouch.test',
    });
    await verify(v1only, { identity: 'user@example.com', issuer: 'https://old.vouch.test' });
    const none = sign({ san: { email: 'user@example.com' }, issuer: null });
    await rejectsWith(
      verify(none, { identity: 'user@example.com', issuer: ISSUER }),
      'ISSUER_MISMATCH',
      /no OIDC issuer/,
    );
  });

  test('a certificate expired when the log saw the signature is CERTIFICATE_INVALID', async () => {
    const b = messageBundle(
      artifact,
      keylessSigner(inst, {
        san: { email: 'user@example.com' },
        notBefore: new Date(T0.getTime() - 3600_000),
        notAfter: new Date(T0.getTime() - 1800_000),
      }),
      { log: inst.log, at: T0 },
    );
    await rejectsWith(
      verify(b, { identity: 'user@example.com', issuer: ISSUER }),
      'CERTIFICATE_INVALID',
      /expired/,
    );
  });

  test('a certificate from another CA is CERTIFICATE_INVALID', async () => {
    const other = createInstance();
    const b = messageBundle(artifact, keylessSigner(other, { san: { email: 'user@example.com' } }), {
      log: inst.log,
    });
    await rejectsWith(verify(b, { identity: 'user@example.com', issuer: ISSUER }), 'CERTIFICATE_INVALID');
  });

  test('a certificate without an SCT is CERTIFICATE_INVALID unless SCTs are waived', async () => {
    const b = sign({ san: { email: 'user@example.com' }, noSct: true });
    const id = { identity: 'user@example.com', issuer: ISSUER };
    await rejectsWith(verify(b, id), 'CERTIFICATE_INVALID', /SCT/);
    const r = await verify(b, id, { ctlogThreshold: 0 });
    assert.equal(r.tlogEntries, 1);
  });

  test('a bundle logged in an untrusted log is TLOG_INVALID', async () => {
    const other = createInstance();
    const b = messageBundle(artifact, keylessSigner(inst, { san: { email: 'user@example.com' } }), {
      log: other.log,
    });
    await rejectsWith(verify(b, { identity: 'user@example.com', issuer: ISSUER }), 'TLOG_INVALID');
  });

  test('DSSE: in-toto subjects are matched by sha256; other payload types must be the artifact', async () => {
    const signer = keylessSigner(inst, { san: { uri: 'https://ci.vouch.test/pipeline@refs/heads/main' } });
    const id = { identity: 'https://ci.vouch.test/pipeline@refs/heads/main', issuer: ISSUER };
    const statement = Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [
          { name: 'other', digest: { sha256: '11'.repeat(32) } },
          { name: 'release.tar', digest: { sha256: sha256hex(artifact) } },
        ],
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: {},
      }),
    );
    const att = dsseBundle('application/vnd.in-toto+json', statement, signer, { log: inst.log });
    const r = await verify(att, id);
    assert.equal(r.content, 'dsse-envelope');
    assert.deepEqual(Buffer.from(r.payload!.bytes), statement);
    await rejectsWith(
      verifyBundle(att, { bytes: Buffer.from('x') }, { trustedRoot: root, identity: id }),
      'SUBJECT_MISMATCH',
      /subjects: other sha256:1111/,
    );
    const raw = dsseBundle('text/plain', artifact, signer, { log: inst.log });
    await verify(raw, id);
    await rejectsWith(
      verifyBundle(raw, { bytes: Buffer.from('x') }, { trustedRoot: root, identity: id }),
      'SUBJECT_MISMATCH',
      /DSSE payload \(text\/plain\)/,
    );
  });

  test('key bundles: no tlog needed by default, the hint is only a hint, a wrong key is KEY_MISMATCH', async () => {
    const pair = ecKeyPair();
    const key = verificationKeyFromKeyObject(pair.publicKey);
    const b = messageBundle(artifact, { kind: 'key', key: pair.privateKey, publicKey: pair.publicKey });
    const opts = { trustedRoot: root, key };
    const r = await verifyBundle(b, { bytes: artifact }, opts);
    assert.deepEqual(r.signer, { kind: 'key', hint: keyHint(pair.publicKey) });
    assert.equal(r.tlogEntries, 0);
    await rejectsWith(verifyBundle(b, { bytes: artifact }, { ...opts, tlogThreshold: 1 }), 'TLOG_INVALID');
    // Logged: the entry is checked against the trusted root's log.
    const logged = messageBundle(
      artifact,
      { kind: 'key', key: pair.privateKey, publicKey: pair.publicKey },
      { log: inst.log },
    );
    const rl = await verifyBundle(logged, { bytes: artifact }, { ...opts, tlogThreshold: 1 });
    assert.equal(rl.tlogEntries, 1);
    // Some writers put another hint (or none): the signature decides.
    const oddHint = messageBundle(artifact, {
      kind: 'key',
      key: pair.privateKey,
      publicKey: pair.publicKey,
      hint: 'abc',
    });
    await verifyBundle(oddHint, { bytes: artifact }, opts);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await rejectsWith(
      verifyBundle(
        b,
        { bytes: artifact },
        { trustedRoot: root, key: verificationKeyFromKeyObject(other.publicKey) },
      ),
      'KEY_MISMATCH',
    );
    await rejectsWith(
      verifyBundle(b, { bytes: artifact }, { trustedRoot: root }),
      'KEY_MISMATCH',
      /no key was given/,
    );
  });

  test('key bundles signed as cosign signs with P-384, P-521 and Ed25519 keys verify', async () => {
    const statement = Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'a', digest: { sha256: sha256hex(artifact) } }],
        predicateType: 'https://example.com/p',
      }),
    );
    const pairs = {
      'ecdsa-p384': generateKeyPairSync('ec', { namedCurve: 'P-384' }),
      'ecdsa-p521': generateKeyPairSync('ec', { namedCurve: 'P-521' }),
      ed25519: generateKeyPairSync('ed25519'),
    };
    for (const [algorithm, pair] of Object.entries(pairs)) {
      const key = verificationKeyFromKeyObject(pair.publicKey);
      assert.equal(key.algorithm, algorithm);
      const signer = { kind: 'key', key: pair.privateKey, publicKey: pair.publicKey } as const;
      const msg = await verifyBundle(
        messageBundle(artifact, signer),
        { bytes: artifact },
        { trustedRoot: root, key },
      );
      assert.equal(msg.content, 'message-signature', algorithm);
      const att = dsseBundle('application/vnd.in-toto+json', statement, signer);
      const d = await verifyBundle(att, { bytes: artifact }, { trustedRoot: root, key });
      assert.equal(d.content, 'dsse-envelope', algorithm);
      const tampered = structuredClone(att);
      tampered.dsseEnvelope!.payload = Buffer.from(statement.toString().replace('"a"', '"b"')).toString(
        'base64',
      );
      await rejectsWith(verifyBundle(tampered, undefined, { trustedRoot: root, key }), 'SIGNATURE_INVALID');
    }
    // @sigstore/verify alone checks DSSE with SHA-256 whatever the curve, so it refuses these.
    const p384 = pairs['ecdsa-p384'];
    const att = dsseBundle('application/vnd.in-toto+json', statement, {
      kind: 'key',
      key: p384.privateKey,
      publicKey: p384.publicKey,
    });
    const entity = toSignedEntity(bundleFromJSON(att));
    assert.equal(entity.signature.verifySignature(p384.publicKey), false);
  });

  test('a trusted root passed in directly is validated too (vouch refuses a log without validFor.start)', async () => {
    const b = sign({ san: { email: 'user@example.com' } });
    const bad: TrustedRootJson = inst.trustedRoot();
    delete bad.tlogs[0]!.publicKey!.validFor!.start;
    await rejectsWith(
      verify(b, { identity: 'user@example.com', issuer: ISSUER }, { trustedRoot: bad }),
      'TRUST_ROOT_INVALID',
      /tlogs\[0\]\.publicKey\.validFor\.start is missing/,
    );
    // ... while the library alone would have accepted it.
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(bad)));
    verifier.verify(toSignedEntity(bundleFromJSON(b), artifact));
  });
});
