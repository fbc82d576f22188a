/**
 * `vouch sign-blob`: sign a file with a key or keylessly (Fulcio + Rekor) and write a Sigstore
 * bundle (v0.3) and/or cosign's side files (.sig = base64 of the raw signature, certificate PEM).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { VouchError } from '../../errors.ts';
import { loadSigningKey } from '../../sign/keys/load.ts';
import { type Prompt, terminalPrompt } from '../../sign/keys/passphrase.ts';
import type { PassphraseSource } from '../../sign/keys/types.ts';
import { legacyFromBundle } from '../../sigstore/legacy.ts';
import { findIdentityToken, type IdentityToken } from '../../sigstore/oidc.ts';
import {
  type BundleSigningOptions,
  DEFAULT_FULCIO_URL,
  DEFAULT_REKOR_URL,
  type SigningIdentity,
  signMessage,
} from '../../sigstore/sign.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { ExitCode, println } from '../io.ts';
import type { Command, OptionSpec } from '../main.ts';

const options = {
  key: { type: 'string', description: 'sign with this private key (cosign.key, PKCS#8, SEC 1, PKCS#1)' },
  'identity-token': {
    type: 'string',
    description:
      'keyless: the OIDC token, or @FILE to read it (prefer @FILE: command lines are visible to others)',
  },
  bundle: { type: 'string', description: 'write the Sigstore bundle (v0.3 JSON) to this file' },
  'output-signature': {
    type: 'string',
    description: 'write the base64 signature (cosign .sig) here instead of stdout',
  },
  'output-certificate': { type: 'string', description: 'keyless: write the signing certificate PEM here' },
  'tlog-upload': {
    type: 'boolean',
    description: 'with --key: also record the signature in Rekor (always on for keyless)',
  },
  'rekor-url': {
    type: 'string',
    description: `Rekor to record in (with --key: implies --tlog-upload; default ${DEFAULT_REKOR_URL})`,
  },
  'fulcio-url': {
    type: 'string',
    description: `keyless: Fulcio to certify with (default ${DEFAULT_FULCIO_URL})`,
  },
  'tsa-url': {
    type: 'string',
    description:
      'also get an RFC 3161 timestamp from this TSA (e.g. https://timestamp.sigstore.dev/api/v1/timestamp)',
  },
  'password-file': {
    type: 'string',
    description:
      'with --key: the passphrase is the first line of this file (after VOUCH_PASSWORD, COSIGN_PASSWORD)',
  },
} as const satisfies Record<string, OptionSpec>;

type Values = {
  [K in keyof typeof options]?: (typeof options)[K]['type'] extends 'boolean' ? boolean : string;
};

const HELP = [
  'Key-based signing works offline: by default nothing is sent anywhere and the bundle holds the',
  'signature and a key hint only. Unlike cosign, vouch uploads to Rekor only when asked with',
  '--tlog-upload (or --rekor-url). Without an upload, verifiers need the public key and must accept',
  'a bundle with no tlog entry (cosign verify-blob --insecure-ignore-tlog).',
  '',
  'Keyless signing always uses Fulcio and Rekor (the public-good instances unless --fulcio-url and',
  '--rekor-url say otherwise): the signer identity from the OIDC token is written into a',
  'short-lived certificate and logged publicly.',
  '',
  'The OIDC token comes from --identity-token (TOKEN or @FILE), else SIGSTORE_ID_TOKEN, else',
  "GitHub Actions' ambient credentials (a job with `permissions: id-token: write`). It is never",
  'printed. Without --output-signature the base64 signature goes to stdout, as cosign does.',
  '',
  'Examples:',
  '  vouch sign-blob --key cosign.key --bundle app.tar.sigstore.json app.tar',
  '  vouch sign-blob --key cosign.key --output-signature app.tar.sig app.tar',
  '  vouch sign-blob --bundle app.sigstore.json --output-certificate app.pem app.tar   # in GitHub Actions',
  '  vouch sign-blob --identity-token @token.jwt --fulcio-url https://fulcio.example \\',
  '      --rekor-url https://rekor.example --bundle out.sigstore.json app.tar',
].join('\n');

export interface SignBlobDeps {
  /** The terminal prompt for key passphrases, or undefined when there is no terminal. */
  prompt: () => Prompt | undefined;
}

const usage = (message: string) => new VouchError('USAGE', message, { hint: 'see vouch sign-blob --help' });

/** `vouch sign-blob`, with the terminal injected so tests can stand in for it. */
export function makeSignBlobCommand(deps: SignBlobDeps): Command {
  return {
    name: 'sign-blob',
    summary: 'Sign a file with a key or keylessly: Sigstore bundle, cosign .sig and certificate',
    usage:
      'sign-blob FILE (--key KEY | --identity-token TOKEN|@FILE | <GitHub Actions OIDC>) [--bundle F] ' +
      '[--output-signature F] [--output-certificate F] [--tlog-upload] [--rekor-url U] [--fulcio-url U] ' +
      '[--tsa-url U] [--password-file F]',
    help: HELP,
    options,
    async run({ values, positionals }, io) {
      const v = values as Values;
      if (positionals.length !== 1) {
        throw usage(`expected one FILE to sign, got ${positionals.length} argument(s)`);
      }
      const file = resolve(io.cwd, positionals[0] ?? '');
      const keyless = v.key === undefined;
      checkCombinations(v, keyless);
      // Fail on a missing file before asking for a passphrase or a token.
      const data = await readBlob(file);
      let identity: SigningIdentity;
      let token: IdentityToken | undefined;
      if (keyless) {
        token = await findIdentityToken({ flag: v['identity-token'], env: io.env, cwd: io.cwd });
        if (!token) {
          throw usage(
            'no signing identity: pass --key KEY, or --identity-token TOKEN|@FILE, set SIGSTORE_ID_TOKEN, ' +
              'or run in GitHub Actions with `permissions: id-token: write`',
          );
        }
        const found = token;
        identity = {
          kind: 'keyless',
          fulcioUrl: v['fulcio-url'] ?? DEFAULT_FULCIO_URL,
          identityToken: async () => found.token,
        };
      } else {
        const prompt = deps.prompt();
        const passphrase: PassphraseSource = {
          env: io.env,
          ...(v['password-file'] !== undefined ? { file: resolve(io.cwd, v['password-file']) } : {}),
          ...(prompt !== undefined ? { prompt } : {}),
        };
        identity = { kind: 'key', key: await loadSigningKey(resolve(io.cwd, v.key ?? ''), passphrase) };
      }
      const upload = keyless || v['tlog-upload'] === true || v['rekor-url'] !== undefined;
      const signing: BundleSigningOptions = {
        identity,
        rekorUrl: upload ? (v['rekor-url'] ?? DEFAULT_REKOR_URL) : undefined,
        tsaUrl: v['tsa-url'],
      };
      if (token)
        println(
          io.stderr,
          `Signing as ${token.claims.subject} (issuer ${token.claims.iss}, token from ${token.origin})`,
        );
      const bundle = await signMessage(data, signing);
      const legacy = legacyFromBundle(bundle);

      const entry = bundle.verificationMaterial.tlogEntries?.[0];
      if (entry) println(io.stderr, `tlog entry created with index: ${entry.logIndex} (${signing.rekorUrl})`);
      const out = (p: string) => resolve(io.cwd, p);
      if (v.bundle !== undefined) {
        await writeFileAtomic(out(v.bundle), JSON.stringify(bundle));
        println(io.stderr, `Wrote bundle to ${v.bundle}`);
      }
      if (v['output-certificate'] !== undefined && legacy.certificatePem) {
        await writeFileAtomic(out(v['output-certificate']), legacy.certificatePem);
        println(io.stderr, `Wrote certificate to ${v['output-certificate']}`);
      }
      if (v['output-signature'] !== undefined) {
        await writeFileAtomic(out(v['output-signature']), legacy.signature);
        println(io.stderr, `Wrote signature to ${v['output-signature']}`);
      } else {
        println(io.stdout, legacy.signature);
      }
      return ExitCode.Ok;
    },
  };
}

export const signBlobCommand: Command = makeSignBlobCommand({ prompt: () => terminalPrompt() });

function checkCombinations(v: Values, keyless: boolean): void {
  if (keyless) {
    if (v['password-file'] !== undefined) throw usage('--password-file needs --key');
    return;
  }
  for (const flag of ['identity-token', 'fulcio-url', 'output-certificate'] as const) {
    if (v[flag] !== undefined) throw usage(`--${flag} is for keyless signing and excludes --key`);
  }
}

async function readBlob(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new VouchError('FILE_NOT_FOUND', `${path} does not exist`);
    if (code === 'EISDIR') throw new VouchError('IO_ERROR', `${path} is a directory, not a file`);
    throw new VouchError('IO_ERROR', `cannot read ${path}${code ? ` (${code})` : ''}`, { cause: e });
  }
}
