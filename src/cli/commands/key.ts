import { lstat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { VouchError } from '../../errors.ts';
import {
  exportKeyPair,
  GENERATE_ALGORITHMS,
  type GeneratedKeyPair,
  generateKeyPair,
  isGenerateAlgorithm,
} from '../../sign/keys/generate.ts';
import {
  findPrivateKeyBlock,
  PRIVATE_KEY_PEM_TYPES,
  parsePrivateKey,
  parseVerificationKey,
  readKeyFile,
} from '../../sign/keys/load.ts';
import { type Prompt, readPassphrase, terminalPrompt } from '../../sign/keys/passphrase.ts';
import { parsePem } from '../../sign/keys/pem.ts';
import { signingKeyFromKeyObject } from '../../sign/keys/signing-key.ts';
import type { PassphraseSource } from '../../sign/keys/types.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { type CliIO, ExitCode, println } from '../io.ts';
import type { Command, OptionSpec } from '../main.ts';

const SUBCOMMANDS = ['generate', 'public-key', 'import'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

const options = {
  algorithm: {
    type: 'string',
    description: `generate: ${GENERATE_ALGORITHMS.join(' | ')} (default ecdsa-p256, as cosign)`,
  },
  'output-key-prefix': {
    type: 'string',
    description:
      'generate, import: write PREFIX.key and PREFIX.pub (default cosign, in the current directory)',
  },
  key: { type: 'string', description: 'public-key, import: the private key file to read' },
  output: { type: 'string', description: 'public-key: write the PEM to this file instead of stdout' },
  'password-file': {
    type: 'string',
    description:
      'read the passphrase from the first line of this file (after VOUCH_PASSWORD, COSIGN_PASSWORD)',
  },
  force: { type: 'boolean', description: 'generate, import: overwrite existing key files' },
} as const satisfies Record<string, OptionSpec>;

type Values = {
  [K in keyof typeof options]?: (typeof options)[K]['type'] extends 'boolean' ? boolean : string;
};

const APPLIES: Record<Sub, (keyof typeof options)[]> = {
  generate: ['algorithm', 'output-key-prefix', 'password-file', 'force'],
  'public-key': ['key', 'output', 'password-file'],
  import: ['key', 'output-key-prefix', 'password-file', 'force'],
};

const HELP = [
  'vouch key generate      make a new key pair: PREFIX.key (the private key, encrypted with a passphrase,',
  '                        file mode 0600) and PREFIX.pub (the public key), exactly as',
  '                        `cosign generate-key-pair` writes them. Existing files are kept unless --force.',
  'vouch key public-key    print the public key (PEM) of a private key file, as `cosign public-key`.',
  'vouch key import        turn a plain PEM private key (PRIVATE KEY, EC PRIVATE KEY, RSA PRIVATE KEY,',
  '                        e.g. from openssl) into an encrypted PREFIX.key + PREFIX.pub, as',
  '                        `cosign import-key-pair`.',
  '',
  'Formats:',
  '  PREFIX.key  PEM "ENCRYPTED SIGSTORE PRIVATE KEY": JSON with scrypt (N=65536, r=8, p=1, 32-byte',
  '              salt) and NaCl secretbox (XSalsa20-Poly1305) around the PKCS#8 key. cosign, skopeo',
  '              and podman read it; vouch also reads the older "ENCRYPTED COSIGN PRIVATE KEY".',
  '  PREFIX.pub  PEM "PUBLIC KEY" (SPKI), what verifiers take (`cosign verify --key`).',
  '  Keys vouch signs with: ECDSA P-256 (default), P-384, P-521, Ed25519, RSA 2048-4096.',
  '',
  'Passphrase (never printed), the first that is set wins:',
  '  VOUCH_PASSWORD            environment variable (set but empty = the empty passphrase)',
  '  COSIGN_PASSWORD           environment variable, as cosign',
  '  --password-file FILE      the first line of FILE',
  '  the terminal              asked without echo (twice for a new key); without a terminal and',
  '                            none of the above, the command fails (PASSPHRASE_MISSING).',
  '',
  'Examples:',
  '  vouch key generate',
  '  VOUCH_PASSWORD=... vouch key generate --output-key-prefix release --algorithm ed25519',
  '  vouch key public-key --key cosign.key > cosign.pub',
  '  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k.pem',
  '  vouch key import --key k.pem --output-key-prefix imported --password-file pass.txt',
].join('\n');

export interface KeyCommandDeps {
  /** The terminal prompt for passphrases, or undefined when there is no terminal. */
  prompt: () => Prompt | undefined;
}

/** `vouch key`, with the terminal injected so tests can stand in for it. */
export function makeKeyCommand(deps: KeyCommandDeps): Command {
  return {
    name: 'key',
    summary: 'Generate, import and show cosign-compatible signing keys (cosign.key / cosign.pub)',
    usage:
      'key generate [--algorithm ALG] [--output-key-prefix P] [--force] | key public-key --key FILE | ' +
      'key import --key FILE [--output-key-prefix P] [--force]   [--password-file F]',
    help: HELP,
    options,
    async run({ values, positionals }, io) {
      const [sub, ...rest] = positionals;
      if (!SUBCOMMANDS.includes(sub as Sub)) {
        throw new VouchError('USAGE', sub ? `unknown key subcommand "${sub}"` : 'missing key subcommand', {
          hint: `subcommands: ${SUBCOMMANDS.join(', ')}`,
        });
      }
      const s = sub as Sub;
      if (rest.length > 0)
        throw new VouchError('USAGE', `vouch key ${s} takes no arguments, got "${rest[0]}"`);
      const v = values as Values;
      for (const k of Object.keys(v) as (keyof typeof options)[]) {
        if (v[k] !== undefined && !APPLIES[s].includes(k)) {
          throw new VouchError('USAGE', `--${k} does not apply to vouch key ${s}`);
        }
      }
      const prompt = deps.prompt();
      const passphrase: PassphraseSource = {
        env: io.env,
        ...(v['password-file'] !== undefined ? { file: resolve(io.cwd, v['password-file']) } : {}),
        ...(prompt !== undefined ? { prompt } : {}),
      };
      if (s === 'generate') return runGenerate(v, passphrase, io);
      if (s === 'import') return runImport(v, passphrase, io);
      return runPublicKey(v, passphrase, io);
    },
  };
}

export const keyCommand: Command = makeKeyCommand({ prompt: () => terminalPrompt() });

async function runGenerate(v: Values, passphrase: PassphraseSource, io: CliIO): Promise<number> {
  const algorithm = v.algorithm ?? 'ecdsa-p256';
  if (!isGenerateAlgorithm(algorithm)) {
    throw new VouchError('USAGE', `--algorithm ${algorithm} is not one of ${GENERATE_ALGORITHMS.join(', ')}`);
  }
  const out = await outputPaths(v, io);
  const pass = await readPassphrase(passphrase, { purpose: 'encrypt', what: out.keyShown });
  await writePair(await generateKeyPair({ algorithm, passphrase: pass }), out, io);
  return ExitCode.Ok;
}

async function runImport(v: Values, passphrase: PassphraseSource, io: CliIO): Promise<number> {
  const { text, input } = await readKeyOption(v, 'import', io);
  const { pemType, encrypted } = findPrivateKeyBlock(text, input);
  if (encrypted) {
    throw new VouchError(
      'KEY_INVALID',
      `${input} is already encrypted (${pemType}); import takes a plain key`,
      {
        hint:
          pemType.includes('SIGSTORE') || pemType.includes('COSIGN')
            ? 'it is a cosign key already: use it as it is'
            : 'decrypt it first: openssl pkey -in KEY.pem -out plain.pem',
      },
    );
  }
  // Plain key: no passphrase is read for the input, only for the output below.
  const { privateKey } = await parsePrivateKey(text, input, {});
  const out = await outputPaths(v, io);
  const pass = await readPassphrase(passphrase, { purpose: 'encrypt', what: out.keyShown });
  await writePair(await exportKeyPair(signingKeyFromKeyObject(privateKey), pass), out, io);
  return ExitCode.Ok;
}

async function runPublicKey(v: Values, passphrase: PassphraseSource, io: CliIO): Promise<number> {
  const { text, input } = await readKeyOption(v, 'public-key', io);
  const first = parsePem(text, input).find((b) =>
    (PRIVATE_KEY_PEM_TYPES as readonly string[]).includes(b.type),
  );
  // A private key (the usual case, as cosign public-key) or already a public key / certificate.
  const pem =
    first !== undefined
      ? signingKeyFromKeyObject((await parsePrivateKey(text, input, passphrase)).privateKey).publicKeyPem
      : parseVerificationKey(text, input).publicKeyPem;
  if (v.output === undefined) {
    io.stdout.write(pem);
    return ExitCode.Ok;
  }
  const path = resolve(io.cwd, v.output);
  await writeFileAtomic(path, pem, { mode: 0o644 });
  println(io.stderr, `Public key written to ${v.output}`);
  return ExitCode.Ok;
}

/** The --key file's text and the name errors and prompts use for it (as the user wrote it). */
async function readKeyOption(v: Values, sub: Sub, io: CliIO): Promise<{ text: string; input: string }> {
  if (v.key === undefined) throw new VouchError('USAGE', `vouch key ${sub} needs --key FILE`);
  return { text: await readKeyFile(resolve(io.cwd, v.key), v.key), input: v.key };
}

interface OutputPaths {
  key: string;
  pub: string;
  keyShown: string;
  pubShown: string;
}

/** PREFIX.key and PREFIX.pub under io.cwd; neither may exist unless --force. */
async function outputPaths(v: Values, io: CliIO): Promise<OutputPaths> {
  const prefix = v['output-key-prefix'] ?? 'cosign';
  if (prefix === '') throw new VouchError('USAGE', '--output-key-prefix must not be empty');
  const out = {
    key: resolve(io.cwd, `${prefix}.key`),
    pub: resolve(io.cwd, `${prefix}.pub`),
    keyShown: `${prefix}.key`,
    pubShown: `${prefix}.pub`,
  };
  if (v.force !== true) {
    for (const [path, shown] of [
      [out.key, out.keyShown],
      [out.pub, out.pubShown],
    ] as const) {
      // lstat: a dangling symlink counts as existing too (writing would go through it).
      if (
        await lstat(path).then(
          () => true,
          () => false,
        )
      ) {
        throw new VouchError('USAGE', `${shown} already exists; refusing to overwrite it`, {
          hint: 'pass --force to replace it, or choose another --output-key-prefix',
        });
      }
    }
  }
  return out;
}

async function writePair(pair: GeneratedKeyPair, out: OutputPaths, io: CliIO): Promise<void> {
  // Private key first and owner-only: a half-done run leaves no public key without its private one.
  await writeFileAtomic(out.key, pair.privatePem, { mode: 0o600 });
  await writeFileAtomic(out.pub, pair.publicPem, { mode: 0o644 });
  println(io.stdout, `Private key written to ${out.keyShown}`);
  println(io.stdout, `Public key written to ${out.pubShown}`);
}
