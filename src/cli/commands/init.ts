/**
 * `vouch init [DIR]`: a commented vouch.yaml to start from. `vouch init github [DIR]`: GitHub
 * Actions workflows (build, weekly rebuild, daily re-scan) for the vouch.yaml in DIR. Neither
 * overwrites an existing file without --force; files are written atomically.
 */
import { join, relative, resolve } from 'node:path';
import { VouchError } from '../../errors.ts';
import { parseReference } from '../../oci/reference.ts';
import { loadPipelineConfig, parsePipelineConfig } from '../../pipeline/config.ts';
import {
  GITHUB_OIDC_ISSUER,
  WORKFLOW_FILES,
  writeGithubWorkflows,
  writeNewFiles,
} from '../../pipeline/github.ts';
import { type InitOptions, starterConfig } from '../../pipeline/init.ts';
import { type CliIO, ExitCode, println } from '../io.ts';
import type { Command, OptionSpec } from '../main.ts';

const options = {
  name: { type: 'string', description: 'init: image registry/repository, no tag (e.g. ghcr.io/o/app)' },
  version: { type: 'string', description: 'init: image version (tags are {version}-{arch})' },
  base: { type: 'string', description: 'init: base image pinned by digest (NAME@sha256:…) or scratch' },
  config: {
    type: 'string',
    description: 'github: the vouch.yaml to build, relative to DIR (default vouch.yaml)',
  },
  'vouch-package': {
    type: 'string',
    description: 'github: what the workflows npm-install (default vouch@<this version>)',
  },
  ecosystem: {
    type: 'string',
    multiple: true,
    description:
      'github: OSV ecosystem the re-scan downloads (repeatable; default Debian, Ubuntu, Alpine, …)',
  },
  'github-attestations': {
    type: 'boolean',
    description: 'github: also record provenance in GitHub attestations (gh attestation verify)',
  },
  force: { type: 'boolean', description: 'overwrite existing files' },
} as const satisfies Record<string, OptionSpec>;

const ONLY_INIT = ['name', 'version', 'base'] as const;
const ONLY_GITHUB = ['config', 'vouch-package', 'ecosystem', 'github-attestations'] as const;

const usage = (m: string) => new VouchError('USAGE', m, { hint: 'see vouch init --help' });
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** --name/--version/--base, checked before they reach YAML (no line breaks, no tags, pinned base). */
export function initOptions(values: Record<string, unknown>): InitOptions {
  const o: InitOptions = {};
  const name = str(values.name);
  if (name !== undefined) {
    let ok = /^[a-z0-9][a-z0-9._:/-]*$/.test(name);
    try {
      const ref = parseReference(name);
      if (ref.tag !== undefined && name.endsWith(`:${ref.tag}`)) ok = false;
    } catch {
      ok = false;
    }
    if (!ok)
      throw usage(`--name ${JSON.stringify(name)} is not a repository name such as ghcr.io/o/app (no tag)`);
    o.name = name;
  }
  const version = str(values.version);
  if (version !== undefined) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(version) || version === 'latest') {
      throw usage(
        `--version ${JSON.stringify(version)} must be a tag-safe version such as 1.2.3 (not latest)`,
      );
    }
    o.version = version;
  }
  const base = str(values.base);
  if (base !== undefined) {
    if (base !== 'scratch' && !/^[a-z0-9][a-z0-9._:/-]*@sha256:[0-9a-f]{64}$/.test(base)) {
      throw new VouchError(
        'USAGE',
        `--base ${JSON.stringify(base)} must be scratch or pinned by digest: NAME@sha256:<64 hex>`,
        { hint: 'find the digest with vouch inspect NAME:TAG' },
      );
    }
    o.base = base;
  }
  return o;
}

async function initConfig(dir: string, values: Record<string, unknown>, io: CliIO): Promise<number> {
  const o = initOptions(values);
  const path = join(dir, 'vouch.yaml');
  const text = starterConfig(o);
  try {
    parsePipelineConfig(text, path); // what is written must load
  } catch (e) {
    throw usage(`these values do not make a valid vouch.yaml: ${(e as Error).message}`);
  }
  await writeNewFiles(dir, [{ path: 'vouch.yaml', content: text }], { force: values.force === true });
  const shown = relative(io.cwd, path) || path;
  println(io.stdout, `Wrote ${shown}`);
  println(io.stdout, 'Next steps:');
  println(
    io.stdout,
    '  1. Put the application in ./app (or edit `layers:`), and set image.name to your registry.',
  );
  if (!o.base)
    println(
      io.stdout,
      '  2. Pin a base image: vouch inspect debian:12-slim, then base.image: debian@sha256:…',
    );
  else println(io.stdout, `  2. Base image: ${o.base}.`);
  println(io.stdout, '  3. Make a signing key (vouch key generate), or use signing.keyless in CI.');
  println(io.stdout, `  4. Run it: vouch pipeline run -c ${shown}`);
  println(io.stdout, '  5. For GitHub Actions: vouch init github');
  return ExitCode.Ok;
}

async function initGithub(dir: string, values: Record<string, unknown>, io: CliIO): Promise<number> {
  const config = str(values.config) ?? 'vouch.yaml';
  const loaded = await loadPipelineConfig(resolve(dir, config));
  const ecosystems = Array.isArray(values.ecosystem) ? values.ecosystem.map(String) : undefined;
  const vouchPackage = str(values['vouch-package']);
  const written = await writeGithubWorkflows(
    dir,
    {
      image: loaded.image.name,
      architectures: loaded.image.architectures,
      config,
      ...(vouchPackage ? { vouchPackage } : {}),
      ...(ecosystems ? { ecosystems } : {}),
      githubAttestations: values['github-attestations'] === true,
    },
    { force: values.force === true },
  );
  for (const p of written) println(io.stdout, `Wrote ${relative(io.cwd, p) || p}`);
  const registry = parseReference(loaded.image.name).registry;
  if (loaded.signing.kind !== 'keyless') {
    println(
      io.stderr,
      `warning: ${config} signs with ${loaded.signing.kind === 'key' ? 'a key file' : 'nothing'}; the workflows sign and verify keylessly: set signing.keyless in ${config}`,
    );
  }
  if (/^(127\.|localhost|\[::1\])/.test(registry)) {
    println(
      io.stderr,
      `warning: image.name ${loaded.image.name} is a local registry; GitHub runners cannot reach it`,
    );
  }
  if (registry !== 'ghcr.io') {
    println(io.stdout, `Add repository secrets REGISTRY_USERNAME and REGISTRY_PASSWORD for ${registry}.`);
  }
  println(io.stdout, 'Releases are built from tags: git tag v<image.version> && git push --tags');
  println(io.stdout, 'Consumers verify with:');
  println(
    io.stdout,
    `  vouch verify-release ${loaded.image.name}:<version>-<arch> --certificate-identity https://github.com/<owner>/<repo>/${WORKFLOW_FILES.build}@refs/tags/v<version> --certificate-oidc-issuer ${GITHUB_OIDC_ISSUER} --source-uri github.com/<owner>/<repo>`,
  );
  return ExitCode.Ok;
}

export const initCommand: Command = {
  name: 'init',
  summary: 'Start a project: a commented vouch.yaml, or GitHub Actions workflows for it (init github)',
  usage:
    'init [DIR] [--name N] [--version V] [--base NAME@sha256:…] [--force] | ' +
    'init github [DIR] [--config FILE] [--vouch-package SPEC] [--ecosystem E]... [--github-attestations] [--force]',
  help: [
    'vouch init [DIR]          write DIR/vouch.yaml (default: the current directory), commented, valid as',
    '                          written; --name, --version and --base fill it in.',
    'vouch init github [DIR]   write three GitHub Actions workflows for DIR/vouch.yaml:',
    `                          ${WORKFLOW_FILES.build}: on a v* tag (or by hand, on a tag), run`,
    '                            the pipeline, signing keylessly with the workflow’s OIDC identity, then',
    '                            verify the published release as a consumer would;',
    `                          ${WORKFLOW_FILES.rebuild}: weekly, rebuild the latest vX.Y.Z tag;`,
    `                          ${WORKFLOW_FILES.rescan}: daily, verify the latest release, scan its`,
    '                            signed SBOMs for fixable HIGH/CRITICAL vulnerabilities and open (or',
    '                            update) an issue with the details.',
    '                          Least privilege: `permissions: {}` at the top, each job only what it needs;',
    '                          actions pinned by commit SHA; no expressions pasted into scripts.',
    'Existing files are kept unless --force. A directory named "github" is ./github.',
    '',
    'Examples:',
    '  vouch init --name ghcr.io/o/app --version 1.0.0',
    '  vouch init github --ecosystem Debian --ecosystem Go',
  ].join('\n'),
  options,
  async run({ values, positionals }, io) {
    const isGithub = positionals[0] === 'github';
    const rest = isGithub ? positionals.slice(1) : positionals;
    if (rest.length > 1) throw usage(`expected at most one DIR, got ${rest.length} arguments`);
    const misplaced = (isGithub ? ONLY_INIT : ONLY_GITHUB).find((k) => values[k] !== undefined);
    if (misplaced) throw usage(`--${misplaced} does not apply to vouch init${isGithub ? ' github' : ''}`);
    const dir = resolve(io.cwd, rest[0] ?? '.');
    return isGithub ? initGithub(dir, values, io) : initConfig(dir, values, io);
  },
};
