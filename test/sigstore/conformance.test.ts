/**
 * The Sigstore conformance suite's bundle-verify cases (../shared/data/sigstore-conformance,
 * snapshot of sigstore/sigstore-conformance test/assets/bundle-verify): one test per case, run
 * as the suite's harness runs a client (helpers/conformance.ts). Cases named `_fail` must fail
 * with a VouchError carrying a verification code, never INTERNAL or a library error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ErrorCode, isVouchError } from '../../src/errors.ts';
import {
  CONFORMANCE,
  conformanceCases,
  conformancePresent,
  expectedIdentity,
  runCase,
} from './helpers/conformance.ts';

/** What a failing case may legitimately answer: a refusal of the input or of the proof. */
const VERIFICATION_CODES: ReadonlySet<ErrorCode> = new Set([
  'BUNDLE_INVALID',
  'TRUST_ROOT_INVALID',
  'KEY_INVALID',
  'SIGNATURE_INVALID',
  'KEY_MISMATCH',
  'SUBJECT_MISMATCH',
  'IDENTITY_MISMATCH',
  'ISSUER_MISMATCH',
  'CERTIFICATE_CLAIM_MISMATCH',
  'CERTIFICATE_INVALID',
  'TLOG_INVALID',
  'TIMESTAMP_INVALID',
]);

/**
 * The code each failing case must produce: the reason the suite's README gives, as vouch
 * classifies it. A change of classification is a deliberate decision, so it is pinned here.
 */
const EXPECTED: Record<string, ErrorCode> = {
  'bundle-empty-certificate-chain_fail': 'BUNDLE_INVALID',
  'bundle-from-wrong-instance_fail': 'CERTIFICATE_INVALID',
  'bundle-invalid-base64-signature_fail': 'BUNDLE_INVALID',
  'bundle-malformed-json_fail': 'BUNDLE_INVALID',
  'bundle-negative-log-index_fail': 'BUNDLE_INVALID',
  'bundle-unknown-version_fail': 'BUNDLE_INVALID',
  'bundle-with-root-cert_fail': 'BUNDLE_INVALID',
  'checkpoint-bad-keyhint_fail': 'TLOG_INVALID',
  'checkpoint-wrong-roothash_fail': 'TLOG_INVALID',
  'dsse-invalid-sig_fail': 'SIGNATURE_INVALID',
  'dsse-mismatch-envelope_fail': 'TLOG_INVALID',
  'dsse-mismatch-sig_fail': 'TLOG_INVALID',
  'inclusion-proof-corrupted-hash_fail': 'TLOG_INVALID',
  'incorrect-public-key_fail': 'TLOG_INVALID',
  'integrated-time-in-future_fail': 'CERTIFICATE_INVALID',
  'intoto-expired-certificate_fail': 'CERTIFICATE_INVALID',
  'intoto-log-entry-mismatch_fail': 'TLOG_INVALID',
  'intoto-missing-inclusion-proof_fail': 'TLOG_INVALID',
  'intoto-set-outside-signing-cert-validity_fail': 'CERTIFICATE_INVALID',
  'intoto-tsa-timestamp-outside-cert-validity_fail': 'CERTIFICATE_INVALID',
  'invalid-checkpoint-signature_fail': 'TLOG_INVALID',
  'invalid-ct-key_fail': 'CERTIFICATE_INVALID',
  'invalid-inclusion-proof_fail': 'TLOG_INVALID',
  'managed-key-no-key_fail': 'KEY_MISMATCH',
  // Its key.pub is not a key at all (corrupted base64 body).
  'managed-key-wrong-key_fail': 'KEY_INVALID',
  'message-digest-mismatch_fail': 'SUBJECT_MISMATCH',
  'rekor2-checkpoint-missing-log-signature_fail': 'TLOG_INVALID',
  'rekor2-checkpoint-missing-origin_fail': 'TLOG_INVALID',
  'rekor2-checkpoint-missing-root-hash_fail': 'TLOG_INVALID',
  'rekor2-checkpoint-missing-size_fail': 'TLOG_INVALID',
  'rekor2-checkpoint-no-matching-signature_fail': 'TLOG_INVALID',
  'rekor2-dsse-invalid-sig_fail': 'SIGNATURE_INVALID',
  'rekor2-dsse-mismatch-envelope_fail': 'TLOG_INVALID',
  'rekor2-dsse-mismatch-sig_fail': 'TLOG_INVALID',
  'rekor2-no-inclusion-proof_fail': 'TLOG_INVALID',
  'rekor2-no-timestamp_fail': 'TIMESTAMP_INVALID',
  'rekor2-timestamp-outside-trust-root-tsa-validity_fail': 'TIMESTAMP_INVALID',
  'rekor2-timestamp-outside-tsa-cert-validity_fail': 'TIMESTAMP_INVALID',
  'rekor2-timestamp-payload-mismatch_fail': 'TIMESTAMP_INVALID',
  'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': 'TIMESTAMP_INVALID',
  'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail': 'TIMESTAMP_INVALID',
  'rekor2-timestamp-with-incorrect-time_fail': 'CERTIFICATE_INVALID',
  'set-invalid-signature_fail': 'TLOG_INVALID',
  'signature-mismatch_fail': 'SIGNATURE_INVALID',
  // vouch's own rule: @sigstore/verify 4.1.3 accepts this trust root.
  'trust-root-tlog-missing-validity-start_fail': 'TRUST_ROOT_INVALID',
  'wrong-hashedrekord-artifact_fail': 'TLOG_INVALID',
  'wrong-hashedrekord-cert-and-sig_fail': 'TLOG_INVALID',
  'wrong-hashedrekord-entry_fail': 'TLOG_INVALID',
  'wrong-material_fail': 'SUBJECT_MISMATCH',
};

const cases = conformanceCases();

test('the conformance data is present (CI has ../shared/data beside the clone)', (t) => {
  if (!conformancePresent) {
    if (process.env.CI) assert.fail(`${CONFORMANCE} is missing (CI is set, so this cannot be skipped)`);
    t.skip(`${CONFORMANCE} is missing`);
    return;
  }
  assert.ok(cases.length >= 70, `expected at least 70 cases, found ${cases.length}`);
  // Every failing case has a pinned expectation, and no pin names a case that is gone.
  assert.deepEqual(
    cases.filter((c) => c.endsWith('_fail')),
    Object.keys(EXPECTED).sort(),
  );
});

for (const name of cases) {
  if (name.endsWith('_fail')) {
    test(`conformance ${name}: refused with ${EXPECTED[name]}`, async () => {
      await assert.rejects(runCase(name), (e: unknown) => {
        assert.ok(isVouchError(e), `expected a VouchError, got ${String(e)}`);
        assert.ok(VERIFICATION_CODES.has(e.code), `${e.code} is not a verification code: ${e.message}`);
        assert.equal(e.code, EXPECTED[name], e.message);
        return true;
      });
    });
  } else {
    test(`conformance ${name}: verifies`, async () => {
      const r = await runCase(name);
      assert.ok(r.tlogEntries >= 1, 'every passing conformance bundle carries a tlog entry');
      assert.ok(r.timestamps.length >= 1, 'and at least one verified time');
      if (r.signer.kind === 'certificate') {
        assert.equal(r.signer.claims.subjectAlternativeName, expectedIdentity(name));
        assert.match(r.signer.certificatePem, /^-----BEGIN CERTIFICATE-----\n/);
      }
      if (r.content === 'dsse-envelope') {
        assert.ok(r.payload && r.payload.bytes.byteLength > 0, 'the verified DSSE payload is returned');
      }
    });
  }
}
