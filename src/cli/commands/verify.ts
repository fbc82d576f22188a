/**
 * `vouch verify`: cosign's `verify` for an image in a registry or an OCI layout. Looks in both
 * places cosign keeps signatures (referrer bundles, then the `sha256-<hex>.sig` tag), verifies
 * each with the key or the keyless identity, and prints what verified (text, or cosign's JSON
 * array with --output json). No valid signature: an error with the most specific reason.
 */
import { resolve } from 'node:path';
import { VouchError } from '../../errors.ts';
import { openImageTarget } from '../../sign/image/target.ts';
import { loadVerificationKey } from '../../sign/keys/load.ts';
import { loadTrustedRoot, publicGoodTrustedRoot } from '../../sigstore/trust-root.ts';
import type { IdentityPolicy } from '../../sigstore/types.ts';
import {
  describeRejection,
  type Rejection,
  type Signer,
  type VerifyOptions,
  verifyImageSignatures,
} from '../../verify/image.ts';
import { type CliIO, ExitCode, println } from '../io.ts';
import type { Command, OptionSpec } from '../main.ts';
import { needPositionals, openOptions, registryOptions } from './common.ts';

const GITHUB_FLAGS = {
  'certificate-github-workflow-repository': 'repository',
  'certificate-github-workflow-ref': 'ref',
  'certificate-github-workflow-name': 'workflowName',
  'certificate-github-workflow-sha': 'sha',
  'certificate-github-workflow-trigger': 'trigger',
} as const satisfies Record<string, keyof NonNullable<IdentityPolicy['github']>>;

/** Who must have signed and what is trusted: the flags `verify` and `verify-attestation` share. */
export const trustOptions = {
  key: { type: 'string', description: 'public key (PEM) that must have signed' },
  'certificate-identity': { type: 'string', description: 'keyless: required signer identity (SAN), exact' },
  'certificate-identity-regexp': {
    type: 'string',
    description: 'keyless: required signer identity, anchored regexp',
  },
  'certificate-oidc-issuer': { type: 'string', description: 'keyless: required OIDC issuer, exact' },
  'certificate-oidc-issuer-regexp': {
    type: 'string',
    description: 'keyless: required OIDC issuer, anchored regexp',
  },
  'certificate-github-workflow-repository': {
    type: 'string',
    description: 'required GitHub repository (owner/repo)',
  },
  'certificate-github-workflow-ref': { type: 'string', description: 'required git ref, e.g. refs/tags/v1' },
  'certificate-github-workflow-name': { type: 'string', description: 'required GitHub workflow name' },
  'certificate-github-workflow-sha': { type: 'string', description: 'required commit sha' },
  'certificate-github-workflow-trigger': { type: 'string', description: 'required event, e.g. push' },
  'trusted-root': {
    type: 'string',
    description: 'trusted_root.json (default: Sigstore public good, offline)',
  },
  offline: {
    type: 'boolean',
    description: 'accepted for cosign compatibility: vouch always verifies offline',
  },
  'insecure-ignore-tlog': {
    type: 'boolean',
    description: 'keyless: do not require a transparency log entry',
  },
  'insecure-ignore-sct': {
    type: 'boolean',
    description: 'keyless: do not require an SCT in the certificate',
  },
  'use-signed-timestamps': { type: 'boolean', description: 'require an RFC 3161 timestamp' },
  output: { type: 'string', description: 'text (default) or json' },
} as const satisfies Record<string, OptionSpec>;

export const TRUST_HELP = [
  'With --key, every signature is checked against that public key. Keyless, both who signed',
  '(--certificate-identity or --certificate-identity-regexp) and where they logged in',
  '(--certificate-oidc-issuer or --certificate-oidc-issuer-regexp) are required; both are matched',
  'against the WHOLE value (regexps are anchored), so user@example.com never admits',
  'evil-user@example.com. Keyless signatures need a transparency-log entry and an SCT; everything',
  'is checked offline against --trusted-root or the public-good root shipped with vouch.',
].join('\n');

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export type OutputFormat = 'text' | 'json';

export function outputOf(v: unknown, command: string): OutputFormat {
  if (v === undefined || v === 'text' || v === 'json') return v ?? 'text';
  throw new VouchError('USAGE', `--output must be text or json, not "${String(v)}"`, {
    hint: `see vouch ${command} --help`,
  });
}

function identityPolicy(values: Record<string, unknown>): IdentityPolicy {
  const p: IdentityPolicy = {};
  const set = (k: 'identity' | 'identityRegexp' | 'issuer' | 'issuerRegexp', flag: string) => {
    const v = str(values[flag]);
    if (v !== undefined) p[k] = v;
  };
  set('identity', 'certificate-identity');
  set('identityRegexp', 'certificate-identity-regexp');
  set('issuer', 'certificate-oidc-issuer');
  set('issuerRegexp', 'certificate-oidc-issuer-regexp');
  for (const [flag, claim] of Object.entries(GITHUB_FLAGS)) {
    const v = str(values[flag]);
    if (v !== undefined) p.github = { ...p.github, [claim]: v };
  }
  return p;
}

const IDENTITY_FLAGS = [
  'certificate-identity',
  'certificate-identity-regexp',
  'certificate-oidc-issuer',
  'certificate-oidc-issuer-regexp',
  ...Object.keys(GITHUB_FLAGS),
];

/** Check the trust flags' combinations (before any I/O). */
export function checkTrustFlags(values: Record<string, unknown>, command: string): void {
  const usage = (m: string) => new VouchError('USAGE', m, { hint: `see vouch ${command} --help` });
  const given = IDENTITY_FLAGS.filter((f) => values[f] !== undefined);
  if (values.key !== undefined) {
    if (given.length > 0)
      throw usage(`--${given[0]} is for keyless signatures; it cannot be combined with --key`);
    return;
  }
  const has = (a: string) => values[a] !== undefined || values[`${a}-regexp`] !== undefined;
  if (!has('certificate-identity') || !has('certificate-oidc-issuer')) {
    throw usage(
      'say who must have signed: --key PUB, or both --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]',
    );
  }
  for (const a of ['certificate-identity', 'certificate-oidc-issuer']) {
    if (values[a] !== undefined && values[`${a}-regexp`] !== undefined) {
      throw usage(`--${a} and --${a}-regexp exclude each other`);
    }
  }
}

/** The verification options the flags ask for. */
export async function trustFrom(values: Record<string, unknown>, io: CliIO): Promise<VerifyOptions> {
  const at = (p: string) => resolve(io.cwd, p);
  const rootPath = str(values['trusted-root']);
  const trustedRoot = rootPath === undefined ? undefined : await loadTrustedRoot(at(rootPath));
  const keyPath = str(values.key);
  const thresholds = {
    ...(values['insecure-ignore-tlog'] ? { tlogThreshold: 0 } : {}),
    ...(values['insecure-ignore-sct'] ? { ctlogThreshold: 0 } : {}),
    ...(values['use-signed-timestamps'] ? { timestampThreshold: 1 } : {}),
  };
  if (keyPath !== undefined) {
    return {
      trust: { kind: 'key', key: await loadVerificationKey(at(keyPath)), trustedRoot },
      ...thresholds,
    };
  }
  return {
    trust: {
      kind: 'keyless',
      identity: identityPolicy(values),
      trustedRoot: trustedRoot ?? (await publicGoodTrustedRoot()),
    },
    ...thresholds,
  };
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
