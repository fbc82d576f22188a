/**
 * `vouch pipeline run`: the whole pipeline of vouch.yaml (src/pipeline/run.ts), logged as
 * readable lines or JSON lines on stdout. Exit 0 when every stage passed, 1 when one failed,
 * 4 when the vulnerability gate failed, 2 for a wrong command line.
 */
import { resolve } from 'node:path';
import { VouchError } from '../../errors.ts';
import { jsonLog, LOG_FORMATS, type LogFormat, textLog } from '../../pipeline/log.ts';
import { runPipeline, selectStages } from '../../pipeline/run.ts';
import { STAGES } from '../../pipeline/schema.ts';
import { type Prompt, terminalPrompt } from '../../sign/keys/passphrase.ts';
import type { PassphraseSource } from '../../sign/keys/types.ts';
import type { CliIO } from '../io.ts';
import type { Command, OptionSpec } from '../main.ts';
import { openOptions, registryOptions } from './common.ts';

const SUBCOMMANDS = ['run'] as const;

const options = {
  config: { type: 'string', short: 'c', description: 'the pipeline file (default ./vouch.yaml)' },
  stages: {
    type: 'string',
    description: `run only these stages, comma-separated (of ${STAGES.join(',')}); default: stages: of the file`,
  },
  target: {
    type: 'string',
    description: 'oci:DIR: publish into an OCI layout instead of the registry image.name names',
  },
  'log-format': { type: 'string', description: 'text (default) or json (one JSON object per line)' },
  'work-dir': { type: 'string', description: 'work area (default <config dir>/.vouch/<version>)' },
  'password-file': {
    type: 'string',
    description: 'key passphrase from the first line of this file (after VOUCH_PASSWORD, COSIGN_PASSWORD)',
  },
  'identity-token': {
    type: 'string',
    description: 'keyless: the OIDC token or @FILE (else SIGSTORE_ID_TOKEN, GitHub Actions)',
  },
  ...registryOptions,
} as const satisfies Record<string, OptionSpec>;

const HELP = [
  'Runs the stages of vouch.yaml in order: build → harden → flatten → test → sbom → scan → provenance',
  '→ sign → push. Images are built into a local OCI layout first (<config dir>/.vouch/<version>/layout),',
  'so every digest is known before anything is published. A failing stage stops the run and keeps',
  'the failed image there. Build times come from SOURCE_DATE_EPOCH (same inputs, same digests).',
  '',
  'push publishes signatures first: for each image and for the multi-arch index, the signature and',
  'the attestations (SLSA provenance, CycloneDX and SPDX SBOMs, the scan as cosign vuln predicate)',
  'reach the registry before the manifest, and the tags {version}-{arch} and {version} come last,',
  'so no tag ever names an unsigned image. sign uploads every SBOM, scan report and attestation',
  'with its .sig to the artifact store (store: of vouch.yaml), by architecture.',
  '',
  'Exit codes:',
  '  0   every stage passed',
  '  1   a stage failed (its name and the reason are logged)',
  '  4   the vulnerability gate failed (as vouch scan)',
  '  2   the command line is wrong',
  '',
  'Examples:',
  '  vouch pipeline run',
  '  vouch pipeline run -c app/vouch.yaml --log-format json',
  '  vouch pipeline run --target oci:./release          # no registry: an OCI layout stands in',
  '  vouch pipeline run --stages build,harden,flatten,test',
].join('\n');

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export interface PipelineCommandDeps {
  prompt: () => Prompt | undefined;
}

export function makePipelineCommand(deps: PipelineCommandDeps): Command {
  return {
    name: 'pipeline',
    summary: 'Run the vouch.yaml pipeline: build, harden, flatten, test, SBOM, scan, provenance, sign, push',
    usage:
      'pipeline run [-c vouch.yaml] [--stages a,b] [--target oci:DIR] [--log-format text|json] [--work-dir DIR] [--password-file F] [--identity-token T|@F]',
    help: HELP,
    options,
    async run({ values, positionals }, io: CliIO) {
      const [sub, ...extra] = positionals;
      if (sub !== 'run' || extra.length > 0) {
        throw new VouchError(
          'USAGE',
          sub === undefined
            ? 'missing subcommand'
            : sub !== 'run'
              ? `unknown subcommand "${sub}"`
              : `unexpected argument "${extra[0]}"`,
          { hint: `subcommands: ${SUBCOMMANDS.join(', ')}; usage: vouch pipeline run [-c vouch.yaml]` },
        );
      }
      const format = str(values['log-format']) ?? 'text';
      if (!(LOG_FORMATS as readonly string[]).includes(format)) {
        throw new VouchError('USAGE', `--log-format must be ${LOG_FORMATS.join(' or ')}, not "${format}"`);
      }
      const stages = str(values.stages);
      const selected =
        stages === undefined
          ? undefined
          : selectStages(
              stages
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            );
      if (selected?.length === 0) throw new VouchError('USAGE', '--stages names no stage');
      const write = (line: string) => io.stdout.write(line);
      const color = io.stdout.isTTY === true && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
      const log = (format as LogFormat) === 'json' ? jsonLog(write) : textLog(write, { color });
      const prompt = deps.prompt();
      const passwordFile = str(values['password-file']);
      const passphrase: PassphraseSource = {
        env: io.env,
        ...(passwordFile ? { file: resolve(io.cwd, passwordFile) } : {}),
        ...(prompt ? { prompt } : {}),
      };
      const workDir = str(values['work-dir']);
      const target = str(values.target);
      const identityToken = str(values['identity-token']);
      const result = await runPipeline({
        config: str(values.config) ?? 'vouch.yaml',
        ...(selected ? { stages: selected } : {}),
        ...(target ? { target } : {}),
        ...(workDir ? { workDir: resolve(io.cwd, workDir) } : {}),
        ...(identityToken ? { identityToken } : {}),
        env: io.env,
        cwd: io.cwd,
        registry: openOptions(values, io.env).registry ?? {},
        passphrase,
        log,
      });
      return result.exitCode;
    },
  };
}

export const pipelineCommand: Command = makePipelineCommand({ prompt: () => terminalPrompt() });
