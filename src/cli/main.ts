import { type ParseArgsOptionDescriptor, parseArgs } from 'node:util';
import { isVouchError, type VouchError } from '../errors.ts';
import { type CliIO, ExitCode, println } from './io.ts';

/** A parseArgs option plus the text `--help` shows for it. */
export type OptionSpec = ParseArgsOptionDescriptor & { description: string };

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Longer help: what it does, examples. */
  help: string;
  options: Record<string, OptionSpec>;
  run(args: { values: Record<string, unknown>; positionals: string[] }, io: CliIO): Promise<number>;
}

/** Commands load lazily so `vouch --help` stays instant. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  pipeline: async () => (await import('./commands/pipeline.ts')).pipelineCommand,
  init: async () => (await import('./commands/init.ts')).initCommand,
  copy: async () => (await import('./commands/copy.ts')).copyCommand,
  inspect: async () => (await import('./commands/inspect.ts')).inspectCommand,
  flatten: async () => (await import('./commands/flatten.ts')).flattenCommand,
  sbom: async () => (await import('./commands/sbom.ts')).sbomCommand,
  scan: async () => (await import('./commands/scan.ts')).scanCommand,
  db: async () => (await import('./commands/db.ts')).dbCommand,
  provenance: async () => (await import('./commands/provenance.ts')).provenanceCommand,
  sign: async () => (await import('./commands/sign.ts')).signCommand,
  verify: async () => (await import('./commands/verify.ts')).verifyCommand,
  attest: async () => (await import('./commands/attest.ts')).attestCommand,
  'verify-attestation': async () =>
    (await import('./commands/verify-attestation.ts')).verifyAttestationCommand,
  'verify-provenance': async () => (await import('./commands/verify-provenance.ts')).verifyProvenanceCommand,
  'verify-release': async () => (await import('./commands/verify-release.ts')).verifyReleaseCommand,
  'sign-blob': async () => (await import('./commands/sign-blob.ts')).signBlobCommand,
  'verify-blob': async () => (await import('./commands/verify-blob.ts')).verifyBlobCommand,
  harden: async () => (await import('./commands/harden.ts')).hardenCommand,
  test: async () => (await import('./commands/test-image.ts')).testImageCommand,
  store: async () => (await import('./commands/store.ts')).storeCommand,
  key: async () => (await import('./commands/key.ts')).keyCommand,
  demo: async () => (await import('./commands/demo.ts')).demoCommand,
};

const SUMMARIES: Record<keyof typeof COMMANDS, string> = {
  pipeline: 'Run the vouch.yaml pipeline: build, harden, flatten, test, SBOM, scan, provenance, sign, push',
  init: 'Start a project: a commented vouch.yaml, or GitHub Actions workflows for it (init github)',
  copy: 'Copy an image or index between layouts, archives and registries, digests unchanged',
  inspect: 'Show an image: digest, platforms, config, layers and sizes',
  flatten: 'Squash an image into one layer, keeping all its config',
  sbom: 'List every package in an image or directory (CycloneDX, SPDX, table)',
  scan: 'Find known vulnerabilities in an image or SBOM and gate on them (table, trivy JSON, SARIF)',
  db: 'Import, update and inspect the OSV advisory database that scan uses',
  provenance: 'Generate SLSA v1 build provenance (GitHub Actions, GitLab CI, generic)',
  sign: 'Sign an image in a registry or OCI layout (cosign .sig tag or Sigstore bundle referrer)',
  verify: 'Verify the signatures of an image in a registry or OCI layout (key or keyless identity)',
  attest: 'Attest a predicate (SLSA provenance, SBOM, ...) about an image and store it next to it',
  'verify-attestation': 'Verify the attestations of an image (type, signer, subject) against a CEL policy',
  'verify-provenance':
    'Verify the SLSA provenance of files or an image: signature, subject, source and builder',
  'verify-release': 'Verify a released image as a consumer: signature, provenance source and builder, SBOM',
  'sign-blob': 'Sign a file with a key or keylessly: Sigstore bundle, cosign .sig and certificate',
  'verify-blob': 'Verify a file against a Sigstore bundle or a cosign signature (keyless identity or key)',
  harden: 'Remove package managers, docs and caches from an image (one whiteout layer), set a non-root user',
  test: 'Check an image statically: non-root user, no package managers, no secrets, libraries, cst files',
  store: 'List what the pipeline uploaded to an artifact store (directory or S3)',
  key: 'Generate, import and show cosign-compatible signing keys (cosign.key / cosign.pub)',
  demo: 'Run the whole pipeline on the bundled example offline, then verify it as a consumer',
};

function topHelp(): string {
  const lines = [
    'vouch - build, check, sign and verify container images (SLSA Level 3 supply chain)',
    '',
    'Usage: vouch <command> [options]',
    '',
    'Commands:',
    ...Object.entries(SUMMARIES).map(([n, s]) => `  ${n.padEnd(19)} ${s}`),
    '',
    'Image names (as skopeo):',
    '  oci:DIR[:TAG]               OCI image layout directory',
    '  oci-archive:FILE[:TAG]      OCI image layout in a tar file',
    '  docker-archive:FILE[:REF]   `docker save` tarball (REF or @N picks one image)',
    '  docker://REF or REF         a registry, e.g. 127.0.0.1:5000/app:1.0 or debian@sha256:...',
    '',
    'Global options: --help, --version, --debug (show causes and stacks)',
    'Exit codes: 0 success, 1 failure, 2 usage error, 4 gate failed (scan, pipeline), 70 internal error',
    '',
    'Run `vouch <command> --help` for details.',
  ];
  return lines.join('\n');
}

function commandHelp(c: Command): string {
  const opts = Object.entries(c.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ' VALUE' : ''}`;
    return `  ${flag.padEnd(28)} ${o.description}`;
  });
  return [`Usage: vouch ${c.usage}`, '', c.summary, '', c.help, '', 'Options:', ...opts].join('\n');
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((a) => a !== '--debug');
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const which = name === 'help' ? rest[0] : undefined;
    if (which && COMMANDS[which]) {
      println(io.stdout, commandHelp(await COMMANDS[which]()));
      return ExitCode.Ok;
    }
    println(io.stdout, topHelp());
    return name === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (name === '--version' || name === 'version') {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    println(io.stdout, `vouch ${version} (node ${process.version})`);
    return ExitCode.Ok;
  }
  const load = COMMANDS[name];
  if (!load) {
    println(io.stderr, `vouch: unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(', ')}`);
    return ExitCode.Usage;
  }
  return runCommand(await load(), rest, io, { debug });
}

/** `command`'s options as parseArgs takes them (the help text stripped). */
export function parseCommandArgs(
  command: Command,
  args: string[],
): { values: Record<string, unknown>; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries(command.options).map(([k, { description: _d, ...o }]) => [k, o]),
  );
  return parseArgs({ args, options, allowPositionals: true, strict: true });
}

/**
 * Run one command on its arguments (after the command name): `--help`, strict parsing (exit 2),
 * then errors as `error [CODE]` with exit codes. Exported so tests can run a command object built
 * with injected dependencies exactly as `main` runs the registered one.
 */
export async function runCommand(
  command: Command,
  args: string[],
  io: CliIO,
  o: { debug?: boolean } = {},
): Promise<number> {
  const name = command.name;
  if (args.includes('--help') || args.includes('-h')) {
    println(io.stdout, commandHelp(command));
    return ExitCode.Ok;
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseCommandArgs(command, args);
  } catch (e) {
    println(io.stderr, `vouch ${name}: ${(e as Error).message}`);
    println(io.stderr, `Usage: vouch ${command.usage}  (see vouch ${name} --help)`);
    return ExitCode.Usage;
  }
  try {
    return await command.run(parsed, io);
  } catch (e) {
    return report(e, name, io, o.debug ?? false);
  }
}

function report(e: unknown, name: string, io: CliIO, debug: boolean): number {
  if (isVouchError(e)) {
    const ve = e as VouchError;
    println(io.stderr, `vouch ${name}: error [${ve.code}]: ${ve.message}`);
    if (ve.hint) println(io.stderr, `  hint: ${ve.hint}`);
    if (debug) {
      let c: unknown = ve.cause;
      while (c) {
        println(io.stderr, `  caused by: ${c instanceof Error ? (c.stack ?? c.message) : String(c)}`);
        c = c instanceof Error ? c.cause : undefined;
      }
    }
    return ve.code === 'USAGE' ? ExitCode.Usage : ExitCode.Failure;
  }
  println(io.stderr, `vouch ${name}: internal error: ${e instanceof Error ? e.message : String(e)}`);
  if (debug && e instanceof Error && e.stack) println(io.stderr, e.stack);
  else println(io.stderr, '  (run again with --debug for details; please report this as a bug)');
  return ExitCode.Internal;
}
