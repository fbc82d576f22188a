/**
 * `vouch verify-blob`: cosign's verify-blob. A file is checked against a Sigstore bundle
 * (keyless with an identity policy, or a key bundle with --key), or against a detached
 * signature (--signature, cosign's base64 `.sig`) with --key. Prints `Verified OK` on stderr
 * like cosign; failures are errors with a verification code (exit 1).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { VouchError } from '../../errors.ts';
import { loadVerificationKey } from '../../sign/keys/load.ts';
import { decodeSignatureFile, verifyBlobSignature } from '../../sigstore/blob.ts';
import { publicGoodTrustedRoot } from '../../sigstore/trust-root.ts';
import type { VerifiedBundle } from '../../sigstore/types.ts';
import { verifyBundle } from '../../sigstore/verify.ts';
import { type CliIO, ExitCode, println } from '../io.ts';
import type { Command } from '../main.ts';
import { needPositionals } from './common.ts';
import {
  identityFlagsGiven,
  identityOptions,
  identityPolicy,
  ignoreOptions,
  keyOption,
  signedTimestampsOption,
  thresholdsFrom,
  trustedRootFrom,
  trustedRootOptions,
} from './trust-options.ts';

const usage = (message: string) => new VouchError('USAGE', message, { hint: 'see vouch verify-blob --help' });

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export const verifyBlobCommand: Command = {
  name: 'verify-blob',
  summary: 'Verify a file against a Sigstore bundle or a cosign signature (keyless identity or key)',
  usage:
    'verify-blob FILE (--bundle B [--key PUB] | --key PUB --signature SIG) [--certificate-identity I | --certificate-identity-regexp R] [--certificate-oidc-issuer O | --certificate-oidc-issuer-regexp R] [--certificate-github-workflow-repository|-ref|-name|-sha|-trigger V] [--trusted-root T] [--offline] [--output json]',
  help: [
    'Flags and meanings follow cosign verify-blob. A keyless bundle needs both who signed',
    '(--certificate-identity or --certificate-identity-regexp) and where they logged in',
    '(--certificate-oidc-issuer or --certificate-oidc-issuer-regexp). Identities and issuers are',
    'compared with the WHOLE value: --certificate-identity user@example.com never accepts',
    'evil-user@example.com, and a regexp is anchored (^(?:R)$; JavaScript syntax, which agrees',
    "with cosign's RE2 for the usual patterns).",
    '',
    'The bundle must carry a transparency log entry (keyless) and an embedded SCT, and is checked',
    'completely offline: vouch never contacts Rekor, Fulcio or a TUF mirror here (--offline is',
    "accepted for cosign compatibility and changes nothing). --signature is cosign's detached",
    '`.sig` (base64 of the raw signature) checked with --key alone, with no transparency log.',
    '',
    'Trusted root: by default the Sigstore public-good trusted_root.json that ships with vouch',
    '(inside the @sigstore/tuf package) is used, as fresh as that package. To refresh it online,',
    "call vouch's refreshTrustedRoot(DIR) (a TUF update from https://tuf-repo-cdn.sigstore.dev that",
    'verifies the signed target and writes DIR/trusted_root.json), or take trusted_root.json from',
    'any Sigstore TUF client, then pass --trusted-root DIR/trusted_root.json. Private Sigstore',
    'instances: pass their trusted_root.json. A root whose logs, CAs or TSAs lack validFor.start',
    'is refused.',
    '',
    'Examples:',
    '  vouch verify-blob app.tar --bundle app.tar.sigstore.json \\',
    '    --certificate-identity https://github.com/o/r/.github/workflows/rel.yml@refs/tags/v1 \\',
    '    --certificate-oidc-issuer https://token.actions.githubusercontent.com',
    '  vouch verify-blob app.tar --bundle app.tar.sigstore.json --key cosign.pub',
    '  vouch verify-blob app.tar --key cosign.pub --signature app.tar.sig',
  ].join('\n'),
  options: {
    bundle: { type: 'string', description: 'Sigstore bundle (.sigstore.json) to verify against' },
    ...keyOption,
    signature: { type: 'string', description: 'detached signature file (base64, cosign .sig); needs --key' },
    ...identityOptions('blob'),
    ...trustedRootOptions,
    output: { type: 'string', description: 'json: print what was verified as JSON on stdout' },
    ...ignoreOptions('blob'),
    'insecure-ignore-identity': {
      type: 'boolean',
      description: 'accept any signer the CA certified (no identity policy)',
    },
    ...signedTimestampsOption('blob'),
  },
  async run({ values, positionals }, io: CliIO) {
    const [file] = needPositionals(positionals, ['FILE'], this.usage);
    const output = str(values.output);
    if (output !== undefined && output !== 'json' && output !== 'text') {
      throw usage(`--output must be json or text, not "${output}"`);
    }
    const bundlePath = str(values.bundle);
    const keyPath = str(values.key);
    const sigPath = str(values.signature);
    if (bundlePath !== undefined && sigPath !== undefined)
      throw usage('--bundle and --signature exclude each other');
    if (bundlePath === undefined && sigPath === undefined) {
      throw usage('give --bundle B, or --key PUB with --signature SIG');
    }
    if (sigPath !== undefined && keyPath === undefined) throw usage('--signature needs --key');
    const identityFlags = identityFlagsGiven(values);
    if (keyPath !== undefined && identityFlags.length > 0) {
      throw usage(`--${identityFlags[0]} applies to keyless bundles; it cannot be combined with --key`);
    }

    const at = (p: string) => resolve(io.cwd, p);
    const artifactPath = at(file!);
    const artifact = await readArtifact(artifactPath);
    const key = keyPath === undefined ? undefined : await loadVerificationKey(at(keyPath));
    const sha256 = createHash('sha256').update(artifact).digest('hex');

    let report: Record<string, unknown>;
    if (sigPath !== undefined) {
      const sig = decodeSignatureFile(await readText(at(sigPath), 'signature'), sigPath);
      verifyBlobSignature(artifact, sig, key!, sigPath);
      report = { mode: 'signature', signer: { kind: 'key', hint: key!.hint, algorithm: key!.algorithm } };
    } else {
      const trustedRootPath = str(values['trusted-root']);
      const trustedRoot = (await trustedRootFrom(values, io)) ?? (await publicGoodTrustedRoot());
      const bundleBytes = await readFile(at(bundlePath!)).catch((e: unknown) => {
        throw readError(e, at(bundlePath!), 'bundle');
      });
      const result = await verifyBundle(
        bundleBytes,
        { bytes: artifact },
        {
          trustedRoot,
          ...(key ? { key } : {}),
          ...(identityFlags.length > 0 ? { identity: identityPolicy(values) } : {}),
          ...thresholdsFrom(values),
          ...(values['insecure-ignore-identity'] ? { allowAnyIdentity: true } : {}),
        },
      );
      report = {
        mode: 'bundle',
        bundle: bundlePath,
        trustedRoot: trustedRootPath ?? 'sigstore public good (embedded)',
        ...describe(result),
      };
    }
    if (output === 'json') {
      println(
        io.stdout,
        JSON.stringify({ verified: true, artifact: { path: file, sha256 }, ...report }, null, 2),
      );
    }
    println(io.stderr, 'Verified OK');
    return ExitCode.Ok;
  },
};

function describe(r: VerifiedBundle): Record<string, unknown> {
  return {
    content: r.content,
    signer:
      r.signer.kind === 'key'
        ? { kind: 'key', hint: r.signer.hint }
        : {
            kind: 'certificate',
            identity: r.signer.claims.subjectAlternativeName,
            issuer: r.signer.claims.issuer,
            claims: r.signer.claims,
          },
    ...(r.payload ? { payloadType: r.payload.type } : {}),
    timestamps: r.timestamps.map((t) => ({ source: t.source, time: t.time.toISOString() })),
    tlogEntries: r.tlogEntries,
  };
}

async function readArtifact(path: string): Promise<Buffer> {
  return readFile(path).catch((e: unknown) => {
    throw readError(e, path, 'file');
  });
}

async function readText(path: string, what: string): Promise<string> {
  return readFile(path, 'utf8').catch((e: unknown) => {
    throw readError(e, path, what);
  });
}

function readError(e: unknown, path: string, what: string): VouchError {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return new VouchError('FILE_NOT_FOUND', `${what} ${path} does not exist`);
  return new VouchError('IO_ERROR', `cannot read ${what} ${path}${code ? ` (${code})` : ''}`, { cause: e });
}
