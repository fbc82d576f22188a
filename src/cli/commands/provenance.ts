/**
 * `vouch provenance generate`: write the unsigned in-toto Statement v1 with a SLSA v1 provenance
 * predicate for some subjects, from the CI environment (GitHub Actions, GitLab CI) or from
 * explicit values (--generic). Signing it is `vouch attest`'s job.
 */
import { resolve } from 'node:path';
import {
  byproductFromFile,
  ciProvenanceInput,
  detectCiEnvironment,
  genericProvenanceInput,
  type ProvenanceInput,
  provenanceStatement,
} from '../../attest/provenance/index.ts';
import type { ResourceDescriptor } from '../../attest/statement.ts';
import { fileSubjects } from '../../attest/subjects.ts';
import { VouchError } from '../../errors.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { type CliIO, ExitCode, println } from '../io.ts';
import type { Command, OptionSpec } from '../main.ts';

const usage = (message: string) => new VouchError('USAGE', message, { hint: 'see vouch provenance --help' });

function list(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

const GENERIC_FLAGS = [
  'builder-id',
  'build-type',
  'source-uri',
  'source-digest',
  'invocation-id',
  'parameter',
] as const;

export interface ProvenanceGenerateOptions {
  subjects: ResourceDescriptor[];
  subjectFiles: string[];
  byproducts: string[];
  output: string;
  mode:
    | { kind: 'ci' }
    | {
        kind: 'generic';
        builderId: string;
        buildType: string;
        sourceUri?: string;
        sourceDigest?: string;
        invocationId?: string;
        parameters: Record<string, string>;
      };
  startedOn?: string;
  finishedOn?: string;
}

/** `NAME=sha256:HEX` (the name may itself contain `=`; the digest never does). */
export function parseSubjectFlag(s: string): ResourceDescriptor {
  const i = s.lastIndexOf('=');
  const name = s.slice(0, Math.max(i, 0));
  const digest = s.slice(i + 1);
  const m = /^sha256:([0-9a-fA-F]{64})$/.exec(digest);
  if (i <= 0 || !m) throw usage(`--subject must be NAME=sha256:<64 hex digits>, not ${JSON.stringify(s)}`);
  return { name, digest: { sha256: m[1]!.toLowerCase() } };
}

function keyValue(s: string, flag: string): [string, string] {
  const i = s.indexOf('=');
  if (i <= 0) throw usage(`--${flag} must be KEY=VALUE, not ${JSON.stringify(s)}`);
  return [s.slice(0, i), s.slice(i + 1)];
}

/** Flags → typed options; every mistake is a USAGE error. */
export function parseProvenanceGenerateOptions(
  values: Record<string, unknown>,
  positionals: string[],
): ProvenanceGenerateOptions {
  if (positionals[0] !== 'generate' || positionals.length !== 1) {
    throw usage(
      positionals.length === 0
        ? 'expected a subcommand: generate'
        : `unknown subcommand or extra argument: ${positionals.join(' ')} (expected: generate)`,
    );
  }
  const subjects = list(values.subject).map(parseSubjectFlag);
  const subjectFiles = list(values['subject-file']);
  if (subjects.length + subjectFiles.length === 0)
    throw usage('give at least one --subject or --subject-file');
  const output = str(values.output);
  if (!output) throw usage('--output FILE is required ("-" writes to stdout)');
  let mode: ProvenanceGenerateOptions['mode'] = { kind: 'ci' };
  const given = GENERIC_FLAGS.filter((f) => values[f] !== undefined);
  if (values.generic === true) {
    const builderId = str(values['builder-id']);
    const buildType = str(values['build-type']);
    if (!builderId || !buildType) throw usage('--generic needs --builder-id and --build-type');
    const sourceUri = str(values['source-uri']);
    const sourceDigest = str(values['source-digest']);
    const invocationId = str(values['invocation-id']);
    const parameters: Record<string, string> = {};
    for (const p of list(values.parameter)) {
      const [k, v] = keyValue(p, 'parameter');
      if (k in parameters) throw usage(`--parameter ${k} is given twice`);
      parameters[k] = v;
    }
    mode = {
      kind: 'generic',
      builderId,
      buildType,
      ...(sourceUri ? { sourceUri } : {}),
      ...(sourceDigest ? { sourceDigest } : {}),
      ...(invocationId ? { invocationId } : {}),
      parameters,
    };
  } else if (given.length > 0) {
    throw usage(
      `--${given[0]} describes a build outside CI: add --generic (CI builds are read from the environment)`,
    );
  }
  const startedOn = str(values['started-on']);
  const finishedOn = str(values['finished-on']);
  return {
    subjects,
    subjectFiles,
    byproducts: list(values.byproduct),
    output,
    mode,
    ...(startedOn ? { startedOn } : {}),
    ...(finishedOn ? { finishedOn } : {}),
  };
}

function provenanceInput(o: ProvenanceGenerateOptions, env: NodeJS.ProcessEnv): ProvenanceInput {
  if (o.mode.kind === 'generic') {
    const { kind: _k, ...g } = o.mode;
    return genericProvenanceInput(g);
  }
  const ci = detectCiEnvironment(env);
  if (!ci) {
    throw usage(
      'no CI environment found (GITHUB_ACTIONS or GITLAB_CI): outside CI, describe the build with --generic --builder-id ID --build-type URI',
    );
  }
  const input = ciProvenanceInput(ci);
  if (ci.kind !== 'gitlab') return input;
  // The GitLab runner records when the job finished; so does vouch, at the time it writes (never
  // before the server's start time, whose clock may run ahead of the runner's).
  const started = input.startedOn ? Date.parse(String(input.startedOn)) : Number.NaN;
  return {
    ...input,
    finishedOn: new Date(Number.isNaN(started) ? Date.now() : Math.max(started, Date.now())),
  };
}

const options = {
  subject: {
    type: 'string',
    multiple: true,
    description: 'NAME=sha256:HEX of an artifact or image; repeatable',
  },
  'subject-file': {
    type: 'string',
    multiple: true,
    description: 'a file to hash as a subject (name = file name); repeatable',
  },
  byproduct: {
    type: 'string',
    multiple: true,
    description: 'an SBOM or scan report to list as a byproduct; repeatable',
  },
  output: { type: 'string', short: 'o', description: 'where to write the statement ("-" = stdout)' },
  generic: {
    type: 'boolean',
    description: 'describe the build with the flags below instead of the CI environment',
  },
  'builder-id': { type: 'string', description: '(--generic) URI of the build platform' },
  'build-type': { type: 'string', description: '(--generic) URI of the build type' },
  'source-uri': {
    type: 'string',
    description: '(--generic) source, e.g. git+https://git.example/app@refs/tags/v1',
  },
  'source-digest': { type: 'string', description: '(--generic) source commit as sha1:HEX or gitCommit:HEX' },
  'invocation-id': { type: 'string', description: '(--generic) id or URL of this build run' },
  parameter: {
    type: 'string',
    multiple: true,
    description: '(--generic) external parameter KEY=VALUE; repeatable',
  },
  'started-on': {
    type: 'string',
    description: 'RFC 3339 time the build started (GitLab: CI_JOB_STARTED_AT)',
  },
  'finished-on': { type: 'string', description: 'RFC 3339 time the build finished' },
} as const satisfies Record<string, OptionSpec>;

export const provenanceCommand: Command = {
  name: 'provenance',
  summary: 'Generate SLSA v1 build provenance for artifacts or images (GitHub Actions, GitLab CI, generic)',
  usage:
    'provenance generate (--subject NAME=sha256:HEX | --subject-file FILE)... [--byproduct FILE]... [--generic --builder-id ID --build-type URI [--source-uri URI] [--source-digest sha1:HEX] [--invocation-id ID] [--parameter K=V]...] [--started-on TIME] [--finished-on TIME] --output FILE',
  help: [
    'Writes an unsigned in-toto Statement v1 whose predicate is SLSA provenance v1. Sign it with',
    '`vouch attest`. Subjects are given by digest (--subject) or hashed from files (--subject-file,',
    'named by their file name); SBOMs and scan reports given with --byproduct are listed with their',
    'sha256 and media type.',
    '',
    'In GitHub Actions (GITHUB_ACTIONS=true) the predicate has the shape actions/attest-build-provenance',
    'writes (buildType https://actions.github.io/buildtypes/workflow/v1). In GitLab CI (GITLAB_CI=true)',
    "it uses the GitLab runner's buildType, with the ref and commit of the pipeline. Anywhere else, or",
    'to override, --generic takes the builder id, build type, source and parameters from flags.',
    'A required CI variable that is missing is an error that names it.',
    '',
    'Examples:',
    '  vouch provenance generate --subject-file dist/app.tar.gz --byproduct sbom.cdx.json --output app.intoto.json',
    '  vouch provenance generate --subject ghcr.io/o/app=sha256:<hex> --output provenance.json',
    '  vouch provenance generate --generic --builder-id https://ci.example/runner --build-type https://ci.example/make/v1 \\',
    '      --source-uri git+https://git.example/app@refs/tags/v1.0.0 --source-digest sha1:<hex> \\',
    '      --subject-file app.bin --output app.provenance.json',
  ].join('\n'),
  options,
  async run({ values, positionals }, io: CliIO) {
    const o = parseProvenanceGenerateOptions(values, positionals);
    const input = provenanceInput(o, io.env);
    const subjects = [...o.subjects, ...(await fileSubjects(o.subjectFiles.map((f) => resolve(io.cwd, f))))];
    const names = new Set<string>();
    for (const s of subjects) {
      if (names.has(s.name ?? '')) throw usage(`subject ${s.name} is given twice`);
      names.add(s.name ?? '');
    }
    const byproducts: ResourceDescriptor[] = [];
    for (const b of o.byproducts) byproducts.push(await byproductFromFile(resolve(io.cwd, b)));
    const statement = provenanceStatement(subjects, {
      ...input,
      ...(o.startedOn ? { startedOn: o.startedOn } : {}),
      ...(o.finishedOn ? { finishedOn: o.finishedOn } : {}),
      ...(byproducts.length > 0 ? { byproducts } : {}),
    });
    const text = `${JSON.stringify(statement, null, 2)}\n`;
    if (o.output === '-') io.stdout.write(text);
    else await writeFileAtomic(resolve(io.cwd, o.output), text);
    println(
      io.stderr,
      `provenance: ${subjects.length} subject(s), builder ${statement.predicate?.runDetails.builder.id}, ` +
        `build type ${statement.predicate?.buildDefinition.buildType}${o.output === '-' ? '' : ` -> ${o.output}`}`,
    );
    return ExitCode.Ok;
  },
};
