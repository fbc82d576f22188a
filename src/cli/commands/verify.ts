/**
 * `vouch verify`: cosign's `verify` for an image in a registry or an OCI layout. Looks in both
 * places cosign keeps signatures (referrer bundles, then the `sha256-<hex>.sig` tag), verifies
 * each with the key or the keyless identity, and prints what verified (text, or cosign's JSON
 * array with --output json). No valid signature: an error with the most specific reason.
 */
import { VouchError } from '../../errors.ts';
import { openImageTarget } from '../../sign/image/target.ts';
import { describeRejection, type Rejection, type Signer, verifyImageSignatures } from '../../verify/image.ts';
import { type CliIO, ExitCode, println } from '../io.ts';
import type { Command } from '../main.ts';
import { needPositionals, openOptions, registryOptions } from './common.ts';
import { checkTrustFlags, TRUST_HELP, trustFrom, trustOptions } from './trust-options.ts';

export type OutputFormat = 'text' | 'json';

export function outputOf(v: unknown, command: string): OutputFormat {
  if (v === undefined || v === 'text' || v === 'json') return v ?? 'text';
  throw new VouchError('USAGE', `--output must be text or json, not "${String(v)}"`, {
    hint: `see vouch ${command} --help`,
  });
}

export function describeSigner(s: Signer): string {
  if (s.kind === 'key') return `key ${s.hint ?? '(no hint)'}`;
  const c = s.claims;
  return `certificate ${c.subjectAlternativeName}${c.issuer ? ` (issuer ${c.issuer})` : ''}`;
}

export function describeTimes(times: readonly { source: string; time: Date }[]): string {
  return times.length === 0 ? '' : `, signed at ${times[0]!.time.toISOString()} (${times[0]!.source})`;
}

export function reportRejections(rejected: readonly Rejection[], io: CliIO): void {
  for (const r of rejected) {
    println(io.stderr, `  not verified: ${describeRejection(r)}`);
  }
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'Verify the signatures of an image in a registry or OCI layout (key or keyless identity)',
  usage:
    'verify IMAGE (--key PUB | --certificate-identity[-regexp] I --certificate-oidc-issuer[-regexp] O) ' +
    '[--certificate-github-workflow-repository|-ref|-name|-sha|-trigger V] [--trusted-root T] [--offline] [--output json]',
  help: [
    'IMAGE is a registry reference or an OCI layout (oci:DIR[:TAG]); a tag is resolved to its digest',
    'once and only signatures for that digest count. Signatures are looked for as OCI referrers',
    '(Sigstore bundles, cosign v3) and in cosign’s sha256-<hex>.sig tag (cosign ≤ v2, skopeo).',
    'Every one is checked; the image verifies when at least one does. The others are listed with',
    'the reason on stderr. Exit 1 with the most specific reason when none verifies:',
    'SIGNATURE_NOT_FOUND (none at all), SUBJECT_MISMATCH (a signature of another image),',
    'KEY_MISMATCH (another key or certificate), IDENTITY_MISMATCH / ISSUER_MISMATCH,',
    'SIGNATURE_INVALID (payload or signature altered; also a legacy key signature made with',
    'another key, which carries nothing to tell the two apart).',
    '',
    TRUST_HELP,
    '',
    '--output json prints cosign’s array of verified payloads (critical.identity, critical.image,',
    'critical.type, optional; keyless adds optional.Subject and optional.Issuer).',
    '',
    'Examples:',
    '  vouch verify --key cosign.pub 127.0.0.1:5000/app:v1',
    '  vouch verify ghcr.io/o/app@sha256:... --certificate-identity-regexp "https://github.com/o/app/.*" \\',
    '    --certificate-oidc-issuer https://token.actions.githubusercontent.com --output json',
  ].join('\n'),
  options: { ...trustOptions, ...registryOptions },
  async run({ values, positionals }, io) {
    const [name] = needPositionals(positionals, ['IMAGE'], this.usage);
    const output = outputOf(values.output, 'verify');
    checkTrustFlags(values, 'verify');
    const o = await trustFrom(values, io);
    const t = await openImageTarget(name!, openOptions(values, io.env));
    try {
      const r = await verifyImageSignatures(t.store, t.image.digest, t.repository, o);
      reportRejections(r.rejected, io);
      if (output === 'json') {
        println(io.stderr, `Verification for ${t.display} --`);
        println(io.stderr, 'The following checks were performed on each of these signatures:');
        println(io.stderr, '  - The cosign claims were validated');
        println(
          io.stderr,
          o.trust.kind === 'key'
            ? '  - The signatures were verified against the specified public key'
            : '  - The code-signing certificate was verified using trusted certificate authority certificates',
        );
        println(io.stdout, JSON.stringify(r.verified.map((s) => s.claims)));
      } else {
        const n = r.verified.length;
        println(io.stdout, `Verified ${n} signature${n === 1 ? '' : 's'} of ${t.display}`);
        for (const s of r.verified) {
          println(
            io.stdout,
            `  ${s.scheme} ${s.location}: ${describeSigner(s.signer)}${describeTimes(s.timestamps)}`,
          );
        }
      }
    } finally {
      await t.store.close();
    }
    return ExitCode.Ok;
  },
};
