/**
 * `vouch sign`: cosign's `sign` for an image in a registry or an OCI layout. The name is resolved
 * to a digest first; that digest is what gets signed. Storage `tag` (default) writes cosign's
 * `sha256-<hex>.sig` layer that cosign ≤ v2 and skopeo read; `referrers` writes a Sigstore bundle
 * referrer with the cosign v3 statement.
 */
import { resolve } from 'node:path';
import { VouchError } from '../../errors.ts';
import {
  type ImageSigningOptions,
  STORAGES,
  type Storage,
  type StoredSignature,
  signImage,
} from '../../sign/image/sign.ts';
import { type ImageTarget, openImageTarget } from '../../sign/image/target.ts';
import { loadSigningKey } from '../../sign/keys/load.ts';
import { type Prompt, terminalPrompt } from '../../sign/keys/passphrase.ts';
import type { PassphraseSource } from '../../sign/keys/types.ts';
import { findIdentityToken } from '../../sigstore/oidc.ts';
import { DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL, type SigningIdentity } from '../../sigstore/sign.ts';
import { type CliIO, ExitCode, println } from '../io.ts';
import type { Command, OptionSpec } from '../main.ts';
import { needPositionals, openOptions, registryOptions } from './common.ts';

/** How to sign: the flags `sign` and `attest` share (cosign's names). */
export const signerOptions = {
  key: { type: 'string', description: 'sign with this private key (cosign.key, PKCS#8, SEC 1, PKCS#1)' },
  'identity-token': {
    type: 'string',
    description: 'keyless: the OIDC token, or @FILE to read it (else SIGSTORE_ID_TOKEN, GitHub Actions)',
  },
  'fulcio-url': {
    type: 'string',
    description: `keyless: Fulcio to certify with (default ${DEFAULT_FULCIO_URL})`,
  },
  'rekor-url': { type: 'string', description: `Rekor to record in (default ${DEFAULT_REKOR_URL})` },
  'tlog-upload': {
    type: 'boolean',
    description: 'with --key: also record the signature in Rekor (always on for keyless)',
  },
  'tsa-url': { type: 'string', description: 'also get an RFC 3161 timestamp from this TSA' },
  'password-file': {
    type: 'string',
    description:
      'with --key: the passphrase is the first line of this file (after VOUCH_PASSWORD, COSIGN_PASSWORD)',
  },
  storage: {
    type: 'string',
    description: 'tag (cosign sha256-<hex> tags, default) or referrers (Sigstore bundle, OCI referrer)',
  },
} as const satisfies Record<string, OptionSpec>;

export interface SignerDeps {
  /** The terminal prompt for key passphrases, or undefined when there is no terminal. */
  prompt: () => Prompt | undefined;
}

export interface Signer {
  identity: SigningIdentity;
  rekorUrl: string | undefined;
  tsaUrl: string | undefined;
  storage: Storage;
  /** Who the token says is signing (keyless), for the log line; never the token. */
  who: string | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function storageOf(v: unknown, command: string): Storage {
  if (v === undefined) return 'tag';
  if (!(STORAGES as readonly unknown[]).includes(v)) {
    throw new VouchError('USAGE', `--storage must be ${STORAGES.join(' or ')}, not "${String(v)}"`, {
      hint: `see vouch ${command} --help`,
    });
  }
  return v as Storage;
}

/** The signing identity the flags ask for: a key file, else a keyless OIDC token. */
export async function signerFrom(
  values: Record<string, unknown>,
  io: CliIO,
  deps: SignerDeps,
  command: string,
): Promise<Signer> {
  const usage = (m: string) => new VouchError('USAGE', m, { hint: `see vouch ${command} --help` });
  const storage = storageOf(values.storage, command);
  const keyPath = str(values.key);
  const at = (p: string) => resolve(io.cwd, p);
  const upload = values['tlog-upload'] === true || values['rekor-url'] !== undefined;
  const tsaUrl = str(values['tsa-url']);
  if (keyPath !== undefined) {
    for (const flag of ['identity-token', 'fulcio-url'] as const) {
      if (values[flag] !== undefined) throw usage(`--${flag} is for keyless signing and excludes --key`);
    }
    const prompt = deps.prompt();
    const passphrase: PassphraseSource = {
      env: io.env,
      ...(values['password-file'] !== undefined ? { file: at(String(values['password-file'])) } : {}),
      ...(prompt !== undefined ? { prompt } : {}),
    };
    const key = await loadSigningKey(at(keyPath), passphrase);
    return {
      identity: { kind: 'key', key },
      rekorUrl: upload ? (str(values['rekor-url']) ?? DEFAULT_REKOR_URL) : undefined,
      tsaUrl,
      storage,
      who: undefined,
    };
  }
  if (values['password-file'] !== undefined) throw usage('--password-file needs --key');
  const token = await findIdentityToken({ flag: str(values['identity-token']), env: io.env, cwd: io.cwd });
  if (!token) {
    throw usage(
      'no signing identity: pass --key KEY, or --identity-token TOKEN|@FILE, set SIGSTORE_ID_TOKEN, ' +
        'or run in GitHub Actions with `permissions: id-token: write`',
    );
  }
  return {
    identity: {
      kind: 'keyless',
      fulcioUrl: str(values['fulcio-url']) ?? DEFAULT_FULCIO_URL,
      identityToken: async () => token.token,
    },
    rekorUrl: str(values['rekor-url']) ?? DEFAULT_REKOR_URL,
    tsaUrl,
    storage,
    who: `${token.claims.subject} (issuer ${token.claims.iss}, token from ${token.origin})`,
  };
}

/** `-a KEY=VALUE` flags (repeatable) as an object. */
export function annotationsOf(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const a of (Array.isArray(v) ? v : [v]).map(String)) {
    const i = a.indexOf('=');
    if (i <= 0) throw new VouchError('USAGE', `-a expects KEY=VALUE, not "${a}"`);
    out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

/** The warning cosign gives when a tag names the image: the digest, not the tag, is what gets signed. */
export function tagWarning(name: string, tag: string | undefined, digest: string, io: CliIO): void {
  if (tag === undefined) return;
  println(
    io.stderr,
    `warning: ${name} names the image by tag "${tag}"; what is signed is its current digest ${digest} ` +
      '(sign IMAGE@sha256:... to be sure it is the image you mean)',
  );
}

/**
 * The signing options for `t` from the flags, after what cosign says before signing: the warning
 * when a tag named the image, and who the token says is signing.
 */
export async function startSigning(
  values: Record<string, unknown>,
  io: CliIO,
  deps: SignerDeps,
  command: string,
  name: string,
  t: ImageTarget,
): Promise<ImageSigningOptions> {
  const signer = await signerFrom(values, io, deps, command);
  tagWarning(name, t.tag, t.image.digest, io);
  if (signer.who) println(io.stderr, `Signing as ${signer.who}`);
  return {
    identity: signer.identity,
    storage: signer.storage,
    rekorUrl: signer.rekorUrl,
    tsaUrl: signer.tsaUrl,
  };
}

/** Where a signature or attestation was stored, for messages. */
export function placeOf(r: StoredSignature): string {
  return r.storage === 'tag' ? `tag ${r.location}` : `referrer ${r.location}`;
}

export function makeSignCommand(deps: SignerDeps): Command {
  return {
    name: 'sign',
    summary: 'Sign an image in a registry or OCI layout (cosign .sig tag or Sigstore bundle referrer)',
    usage:
      'sign IMAGE (--key KEY | --identity-token TOKEN|@FILE | <GitHub Actions OIDC>) [--storage tag|referrers] ' +
      '[-a KEY=VALUE]... [--tlog-upload] [--rekor-url U] [--fulcio-url U] [--tsa-url U] [--password-file F]',
    help: [
      'IMAGE is a registry reference (REPO:TAG, REPO@sha256:...) or an OCI layout (oci:DIR[:TAG]).',
      'The name is resolved to a digest once and that digest is signed; a tag is allowed, with a',
      'warning. Storage `tag` (default) appends a layer to cosign’s sha256-<hex>.sig manifest, which',
      'cosign, skopeo (use-sigstore-attachments) and vouch verify; the same key signing the same',
      'payload again adds nothing. Storage `referrers` attaches a Sigstore bundle (cosign v3 format)',
      'as an OCI referrer, through the tag schema fallback on registries without the referrers API.',
      '',
      'Key-based signing is offline unless --tlog-upload or --rekor-url; keyless signing uses',
      'Fulcio and Rekor (public good unless --fulcio-url/--rekor-url) and the OIDC token from',
      '--identity-token, SIGSTORE_ID_TOKEN or GitHub Actions. The token is never printed.',
      '',
      'Examples:',
      '  vouch sign --key cosign.key 127.0.0.1:5000/app@sha256:...',
      '  vouch sign --key cosign.key -a env=prod --storage referrers oci:./layout:v1',
      '  vouch sign ghcr.io/o/app@sha256:...        # keyless, in GitHub Actions',
    ].join('\n'),
    options: {
      ...signerOptions,
      annotations: {
        type: 'string',
        short: 'a',
        multiple: true,
        description: 'KEY=VALUE to sign along (repeatable)',
      },
      ...registryOptions,
    },
    async run({ values, positionals }, io) {
      const [name] = needPositionals(positionals, ['IMAGE'], this.usage);
      const annotations = annotationsOf(values.annotations);
      storageOf(values.storage, 'sign');
      // The image first: a wrong name fails before a passphrase or a token is asked for.
      const t = await openImageTarget(name!, openOptions(values, io.env));
      try {
        const how = await startSigning(values, io, deps, 'sign', name!, t);
        const r = await signImage(t.store, t.image, t.repository, {
          ...how,
          ...(annotations ? { annotations } : {}),
        });
        const where = placeOf(r);
        println(
          io.stderr,
          r.added ? `Pushed signature to ${where}` : `Already signed: ${where} has this signature`,
        );
        println(io.stdout, t.display);
      } finally {
        await t.store.close();
      }
      return ExitCode.Ok;
    },
  };
}

export const signCommand: Command = makeSignCommand({ prompt: () => terminalPrompt() });
