import { resolve } from 'node:path';
import { VouchError } from '../../errors.ts';
import { openImage } from '../../image/describe.ts';
import { loadStructureTest } from '../../imagetest/cst/parse.ts';
import { formatReport, REPORT_FORMATS, type ReportFormat } from '../../imagetest/report.ts';
import { runImageChecks, summariseChecks } from '../../imagetest/run.ts';
import { BUILTIN_CHECKS, type BuiltinCheck, type DeclaredFile } from '../../imagetest/types.ts';
import { openSource } from '../../transport/open.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { type CliIO, ExitCode, println } from '../io.ts';
import type { Command } from '../main.ts';
import { needPositionals, openOptions, platformOf, platformOption, registryOptions } from './common.ts';

export const testImageCommand: Command = {
  name: 'test',
  summary: 'Check an image statically: non-root user, no package managers, no secrets, libraries, cst files',
  usage:
    'test IMAGE [--config cst.yaml]... [--no-builtin | --check NAME...] [--file PATH[:MODE[:UID:GID]]]... [--absent PATH]... [--format text|json|junit] [--output FILE]',
  help: [
    `Built-in checks (all by default, or those named with --check): ${BUILTIN_CHECKS.join(', ')}.`,
    "user: the config User is not root (names resolved through the image's /etc/passwd).",
    'package-managers: no apt, dpkg, apk, rpm, yum, dnf, ... left executable in the program dirs or PATH.',
    'secrets: no secret-looking Env values or labels (only names and redacted forms are printed).',
    'libraries: every dynamically linked ELF file finds its interpreter and DT_NEEDED libraries.',
    '--config reads container-structure-test files (schemaVersion 2.0.0): metadataTest,',
    'fileExistenceTests, fileContentTests and licenseTests run; commandTests need a container',
    'runtime and fail (or are skipped with --skip-command-tests).',
    'Exit code 0 when every check passes, 1 when any fails.',
    '',
    'Examples:',
    '  vouch test oci:./hard:1.0',
    '  vouch test oci:./hard:1.0 --config structure.yaml --format junit --output report.xml',
    '  vouch test oci:./hard:1.0 --no-builtin --file /app/server:0755:0:0 --absent /bin/sh',
  ].join('\n'),
  options: {
    config: { type: 'string', multiple: true, description: 'container-structure-test YAML file; repeatable' },
    'no-builtin': { type: 'boolean', description: 'run no built-in check' },
    check: {
      type: 'string',
      multiple: true,
      description: `run only this built-in check (${BUILTIN_CHECKS.join(', ')}); repeatable`,
    },
    file: {
      type: 'string',
      multiple: true,
      description: 'PATH[:MODE[:UID:GID]] that must exist; repeatable',
    },
    absent: { type: 'string', multiple: true, description: 'PATH that must not exist; repeatable' },
    'skip-command-tests': {
      type: 'boolean',
      description: 'report cst commandTests as skipped instead of failed',
    },
    format: { type: 'string', description: `${REPORT_FORMATS.join(', ')} (default text)` },
    output: { type: 'string', description: 'write the report to FILE (atomically) instead of stdout' },
    ...platformOption,
    ...registryOptions,
  },
  async run({ values, positionals }, io: CliIO) {
    const [name] = needPositionals(positionals, ['IMAGE'], this.usage);
    const format = (values.format ?? 'text') as string;
    if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
      throw new VouchError('USAGE', `--format must be ${REPORT_FORMATS.join(', ')}, not "${format}"`);
    }
    const checks = strings(values.check);
    if (values['no-builtin'] && checks.length > 0) {
      throw new VouchError('USAGE', '--no-builtin and --check cannot be used together');
    }
    const files: DeclaredFile[] = [
      ...strings(values.file).map(parseFileFlag),
      ...strings(values.absent).map((path) => ({ path: checkPath(path, '--absent'), absent: true })),
    ];
    const structureTests = await Promise.all(
      strings(values.config).map((f) => loadStructureTest(resolve(io.cwd, f))),
    );
    const source = await openSource(name!, openOptions(values, io.env));
    let text: string;
    let ok: boolean;
    try {
      const platform = platformOf(values);
      const { image } = await openImage(source, platform ? { platform } : {});
      const results = await runImageChecks(image, {
        builtin: values['no-builtin'] ? false : checks.length > 0 ? (checks as BuiltinCheck[]) : true,
        files,
        structureTests,
        commandTests: values['skip-command-tests'] ? 'skip' : 'fail',
      });
      text = formatReport(
        format as ReportFormat,
        { name: source.name, digest: image.descriptor.digest },
        results,
      );
      ok = summariseChecks(results).ok;
    } finally {
      await source.close();
    }
    if (typeof values.output === 'string') {
      await writeFileAtomic(resolve(io.cwd, values.output), text);
      println(
        io.stderr,
        `vouch test: ${ok ? 'all checks passed' : 'some checks FAILED'}; report written to ${values.output}`,
      );
    } else io.stdout.write(text);
    return ok ? ExitCode.Ok : ExitCode.Failure;
  },
};

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function checkPath(path: string, flag: string): string {
  if (!path.startsWith('/')) throw new VouchError('USAGE', `${flag} ${path}: the path must be absolute`);
  return path;
}

/** `PATH[:MODE[:UID:GID]]`, MODE in octal. */
export function parseFileFlag(spec: string): DeclaredFile {
  const m = /^([^:]+)(?::([0-7]{3,4})(?::(\d+):(\d+))?)?$/.exec(spec);
  if (!m) {
    throw new VouchError(
      'USAGE',
      `--file ${spec}: expected PATH[:MODE[:UID:GID]], e.g. /app/server:0755:0:0`,
    );
  }
  const f: DeclaredFile = { path: checkPath(m[1]!, '--file') };
  if (m[2] !== undefined) f.mode = Number.parseInt(m[2], 8);
  if (m[3] !== undefined) f.uid = Number(m[3]);
  if (m[4] !== undefined) f.gid = Number(m[4]);
  return f;
}
