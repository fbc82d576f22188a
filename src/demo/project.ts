/**
 * The demo's project: a copy of the bundled example (vouch.yaml, the layer sources, OSV
 * advisories) with what a user adds before a first run: a key pair and the advisory database.
 * The example must be offline by construction (a layout target, a directory store, its own
 * database, a key), or the demo refuses it before anything runs.
 */
import { randomBytes } from 'node:crypto';
import { cp } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VouchError } from '../errors.ts';
import { loadPipelineConfig, type PipelineConfig } from '../pipeline/config.ts';
import { generateKeyPair } from '../sign/keys/generate.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { type ImportResult, importOsv } from '../vuln/db/import.ts';

export const EXAMPLE_DIR = fileURLToPath(new URL('../../examples/hello', import.meta.url));

/** What a run writes into a project: never copied from the example (someone may have run it there). */
const GENERATED = new Set([
  '.vouch',
  '.vouch-demo',
  'registry',
  'artifacts',
  'sbom',
  'advisories.db',
  'cosign.key',
  'cosign.pub',
  'cosign.password',
]);

export interface DemoProject {
  dir: string;
  config: PipelineConfig;
  /** The layout standing in for the registry (target: oci:DIR). */
  registry: string;
  /** The artifact store's directory. */
  store: string;
  /** The advisory database (gate.db), imported from advisories/. */
  db: string;
  advisories: ImportResult;
  /** cosign.key: encrypted with `passphrase`. */
  privateKey: string;
  publicKey: string;
  /** The passphrase in a 0600 file beside the key, so the kept project can be run again. */
  passwordFile: string;
  /** Handed to the pipeline only; never logged. */
  passphrase: string;
}

/** The example's own files (not what a run made in it) into `dir`. */
export async function copyExample(example: string, dir: string): Promise<void> {
  await cp(example, dir, {
    recursive: true,
    filter: (src) => !GENERATED.has(basename(src)) || relative(example, src).includes(sep),
  });
}

/** Copy `example` into `dir`, make a throwaway key pair and import the bundled advisories. */
export async function prepareProject(example: string, dir: string): Promise<DemoProject> {
  await copyExample(example, dir);
  const config = await loadPipelineConfig(join(dir, 'vouch.yaml'));
  const { target, store, gate, signing } = config;
  if (
    target?.kind !== 'layout' ||
    store.kind !== 'directory' ||
    gate.db === undefined ||
    signing.kind !== 'key'
  ) {
    throw new VouchError(
      'PIPELINE_CONFIG_INVALID',
      `${config.file}: the demo runs offline, so it needs target: oci:DIR, store.directory, gate.db and signing.key`,
    );
  }
  const passphrase = randomBytes(24).toString('base64url');
  const pair = await generateKeyPair({ passphrase });
  const stem = signing.key.replace(/\.key$/, '');
  const keys = { privateKey: signing.key, publicKey: `${stem}.pub`, passwordFile: `${stem}.password` };
  await writeFileAtomic(keys.privateKey, pair.privatePem, { mode: 0o600 });
  await writeFileAtomic(keys.publicKey, pair.publicPem);
  await writeFileAtomic(keys.passwordFile, `${passphrase}\n`, { mode: 0o600 });
  const advisories = await importOsv(gate.db, [join(dir, 'advisories')], { fresh: true });
  return {
    dir,
    config,
    registry: target.dir,
    store: store.directory,
    db: gate.db,
    advisories,
    ...keys,
    passphrase,
  };
}
