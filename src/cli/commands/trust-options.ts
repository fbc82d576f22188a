/**
 * Who must have signed and what is trusted: the flags of verify, verify-attestation,
 * verify-provenance, verify-release and verify-blob (cosign's names and meanings), and the code
 * that turns them into an identity policy and verification options. One place, so the five
 * commands cannot drift apart on what a flag means.
 */
import { resolve } from 'node:path';
import { VouchError } from '../../errors.ts';
import { loadVerificationKey } from '../../sign/keys/load.ts';
import { loadTrustedRoot, publicGoodTrustedRoot } from '../../sigstore/trust-root.ts';
import type { IdentityPolicy, TrustedRootDocument } from '../../sigstore/types.ts';
import type { VerifyOptions } from '../../verify/image.ts';
import type { CliIO } from '../io.ts';
import type { OptionSpec } from '../main.ts';

const GITHUB_FLAGS = {
  'certificate-github-workflow-repository': 'repository',
  'certificate-github-workflow-ref': 'ref',
  'certificate-github-workflow-name': 'workflowName',
  'certificate-github-workflow-sha': 'sha',
  'certificate-github-workflow-trigger': 'trigger',
} as const satisfies Record<string, keyof NonNullable<IdentityPolicy['github']>>;

/** The flags that describe a keyless signer (none of them goes with --key). */
export const IDENTITY_FLAGS = [
  'certificate-identity',
  'certificate-identity-regexp',
  'certificate-oidc-issuer',
  'certificate-oidc-issuer-regexp',
  ...(Object.keys(GITHUB_FLAGS) as (keyof typeof GITHUB_FLAGS)[]),
] as const;

/**
 * The image commands say "keyless:" on flags that only apply to certificates; verify-blob,
 * where every input is a bundle, words them without it.
 */
type Wording = 'image' | 'blob';

export const keyOption = {
  key: { type: 'string', description: 'public key (PEM) that must have signed' },
} as const satisfies Record<string, OptionSpec>;

export function identityOptions(w: Wording) {
  const k = w === 'image' ? 'keyless: ' : '';
  return {
    'certificate-identity': { type: 'string', description: `${k}required signer identity (SAN), exact` },
    'certificate-identity-regexp': {
      type: 'string',
      description: `${k}required signer identity, anchored regexp`,
    },
    'certificate-oidc-issuer': { type: 'string', description: `${k}required OIDC issuer, exact` },
    'certificate-oidc-issuer-regexp': {
      type: 'string',
      description: `${k}required OIDC issuer, anchored regexp`,
    },
    'certificate-github-workflow-repository': {
      type: 'string',
      description: 'required GitHub repository (owner/repo)',
    },
    'certificate-github-workflow-ref': { type: 'string', description: 'required git ref, e.g. refs/tags/v1' },
    'certificate-github-workflow-name': { type: 'string', description: 'required GitHub workflow name' },
    'certificate-github-workflow-sha': { type: 'string', description: 'required commit sha' },
    'certificate-github-workflow-trigger': { type: 'string', description: 'required event, e.g. push' },
  } as const satisfies Record<(typeof IDENTITY_FLAGS)[number], OptionSpec>;
}

export const trustedRootOptions = {
  'trusted-root': {
    type: 'string',
    description: 'trusted_root.json (default: Sigstore public good, offline)',
  },
  offline: {
    type: 'boolean',
    description: 'accepted for cosign compatibility: vouch always verifies offline',
  },
} as const satisfies Record<string, OptionSpec>;

/** The flags that waive what a signature must carry (a log entry, an SCT). */
export function ignoreOptions(w: Wording) {
  const k = w === 'image' ? 'keyless: ' : '';
  return {
    'insecure-ignore-tlog': { type: 'boolean', description: `${k}do not require a transparency log entry` },
    'insecure-ignore-sct': { type: 'boolean', description: `${k}do not require an SCT in the certificate` },
  } as const satisfies Record<string, OptionSpec>;
}

export function signedTimestampsOption(w: Wording) {
  const where = w === 'blob' ? ' in the bundle' : '';
  return {
    'use-signed-timestamps': { type: 'boolean', description: `require an RFC 3161 timestamp${where}` },
  } as const satisfies Record<string, OptionSpec>;
}

/** The trust flags of the image commands (verify, verify-attestation, verify-provenance, verify-release). */
export const trustOptions = {
  ...keyOption,
  ...identityOptions('image'),
  ...trustedRootOptions,
  ...ignoreOptions('image'),
  ...signedTimestampsOption('image'),
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

/** The identity flags given, in IDENTITY_FLAGS order. */
export function identityFlagsGiven(values: Record<string, unknown>): (typeof IDENTITY_FLAGS)[number][] {
  return IDENTITY_FLAGS.filter((f) => values[f] !== undefined);
}

export function identityPolicy(values: Record<string, unknown>): IdentityPolicy {
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

/** Check the trust flags' combinations (before any I/O). */
export function checkTrustFlags(values: Record<string, unknown>, command: string): void {
  const usage = (m: string) => new VouchError('USAGE', m, { hint: `see vouch ${command} --help` });
  const given = identityFlagsGiven(values);
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

/** --insecure-ignore-tlog, --insecure-ignore-sct and --use-signed-timestamps as thresholds. */
export function thresholdsFrom(values: Record<string, unknown>): {
  tlogThreshold?: number;
  ctlogThreshold?: number;
  timestampThreshold?: number;
} {
  return {
    ...(values['insecure-ignore-tlog'] ? { tlogThreshold: 0 } : {}),
    ...(values['insecure-ignore-sct'] ? { ctlogThreshold: 0 } : {}),
    ...(values['use-signed-timestamps'] ? { timestampThreshold: 1 } : {}),
  };
}

/** The root named by --trusted-root (relative to the working directory), if any. */
export async function trustedRootFrom(
  values: Record<string, unknown>,
  io: CliIO,
): Promise<TrustedRootDocument | undefined> {
  const rootPath = str(values['trusted-root']);
  return rootPath === undefined ? undefined : loadTrustedRoot(resolve(io.cwd, rootPath));
}

/** The verification options the flags ask for. */
export async function trustFrom(values: Record<string, unknown>, io: CliIO): Promise<VerifyOptions> {
  const trustedRoot = await trustedRootFrom(values, io);
  const keyPath = str(values.key);
  const thresholds = thresholdsFrom(values);
  if (keyPath !== undefined) {
    return {
      trust: { kind: 'key', key: await loadVerificationKey(resolve(io.cwd, keyPath)), trustedRoot },
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
