/**
 * `vouch scan`: catalog an image (or read its SBOM), match the packages against the advisory
 * database, apply the gate (trivy's flags, ignore files, OpenVEX) and write one or more reports
 * from that single result. The gate's "fail" is a result with its own exit code, not an error.
 */
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { VouchError } from '../../errors.ts';
import {
  evaluateGate,
  type GateResult,
  gateTargetFromSbom,
  type LoadedFile,
  loadIgnoreFile,
  loadVexFiles,
  severityCounts,
} from '../../gate/index.ts';
import { openImage } from '../../image/describe.ts';
import {
  type ArtifactType,
  type ReportContext,
  serializeSarif,
  serializeTrivyJson,
  toTable,
  undecidedPackage,
} from '../../report/index.ts';
import { catalogDirectory, catalogImage } from '../../sbom/catalog.ts';
import { DEFAULT_MAX_SBOM_BYTES, detectSbomFormat, readSbom } from '../../sbom/format/index.ts';
import type { Sbom } from '../../sbom/model.ts';
import { parseImageName } from '../../transport/name.ts';
import { openSource } from '../../transport/open.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { checkFreshness, defaultDbPath, openAdvisoryDb } from '../../vuln/db/index.ts';
import { FIX_STATUSES, type Finding, type FixStatus, SEVERITIES, type Severity } from '../../vuln/finding.ts';
import { matchSbom } from '../../vuln/match/index.ts';
import { parseSeverityPrecedence } from '../../vuln/severity/index.ts';
import { type CliIO, ExitCode, println } from '../io.ts';
import type { Command } from '../main.ts';
import { openOptions, platformOf, platformOption, registryOptions } from './common.ts';

/** Exit code when the gate fails (findings over the policy): distinct from 1 (error) and 2 (usage). */
export const GATE_FAILED_EXIT = 4;
export const DEFAULT_MAX_DB_AGE_DAYS = 7;
export const SCAN_FORMATS = ['table', 'json', 'sarif'] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

interface ScanOptions {
  target: string;
  outputs: { format: ScanFormat; path?: string }[];
  db?: string;
  severities: Severity[];
  ignoreUnfixed: boolean;
  ignoreStatuses?: FixStatus[];
  exitCode: number;
  ignoreFile?: { path: string; explicit: boolean };
  vex: string[];
  offline: boolean;
  maxDbAgeDays: number;
  severitySources: string[];
}

const usage = (message: string) => new VouchError('USAGE', message, { hint: 'see vouch scan --help' });

function list(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function csv(v: unknown): string[] {
  return list(v)
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function int(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) {
    throw usage(`--${name} must be a whole number from ${min} to ${max}, not "${s}"`);
  }
  return Number(s);
}

/** Flags → a typed options object, every mistake a USAGE error. */
export function parseScanOptions(
  values: Record<string, unknown>,
  positionals: string[],
  cwd: string,
): ScanOptions {
  if (positionals.length !== 1) {
    throw usage(`expected one IMAGE or SBOM-FILE, got ${positionals.length} argument(s)`);
  }
  const formats = list(values.format);
  for (const f of formats) {
    if (!(SCAN_FORMATS as readonly string[]).includes(f)) {
      throw usage(`--format must be one of ${SCAN_FORMATS.join(', ')}, not "${f}"`);
    }
  }
  const paths = list(values.output);
  let outputs: ScanOptions['outputs'];
  if (paths.length === 0) {
    if (formats.length > 1)
      throw usage('several --format values need one --output each (at most one may be "-", stdout)');
    outputs = [{ format: (formats[0] ?? 'table') as ScanFormat }];
  } else {
    if (formats.length !== paths.length) {
      throw usage(
        `give one --format per --output (got ${formats.length} --format and ${paths.length} --output)`,
      );
    }
    outputs = paths.map((p, i) => ({ format: formats[i] as ScanFormat, ...(p === '-' ? {} : { path: p }) }));
    if (outputs.filter((o) => o.path === undefined).length > 1)
      throw usage('only one --output may be "-" (stdout)');
    const seen = new Set<string>();
    for (const o of outputs) {
      if (!o.path) continue;
      const abs = resolve(cwd, o.path);
      if (seen.has(abs)) throw usage(`--output ${o.path} is given twice`);
      seen.add(abs);
    }
  }
  const severities = csv(values.severity).map((s) => s.toUpperCase());
  for (const s of severities) {
    if (!(SEVERITIES as readonly string[]).includes(s)) {
      throw usage(`--severity: "${s}" is not one of ${SEVERITIES.join(', ')}`);
    }
  }
  const statuses = csv(values['ignore-status']);
  for (const s of statuses) {
    if (!(FIX_STATUSES as readonly string[]).includes(s)) {
      throw usage(`--ignore-status: "${s}" is not one of ${FIX_STATUSES.join(', ')}`);
    }
  }
  const severitySources = csv(values['severity-source']);
  if (severitySources.length > 0) parseSeverityPrecedence(severitySources); // USAGE on a bad name
  const ignoreFile = typeof values.ignorefile === 'string' ? values.ignorefile : undefined;
  return {
    target: positionals[0]!,
    outputs,
    ...(typeof values.db === 'string' ? { db: values.db } : {}),
    severities: severities.length > 0 ? (severities as Severity[]) : [...SEVERITIES],
    ignoreUnfixed: values['ignore-unfixed'] === true,
    ...(statuses.length > 0 ? { ignoreStatuses: statuses as FixStatus[] } : {}),
    exitCode: int(values['exit-code'], 'exit-code', 0, 255) ?? GATE_FAILED_EXIT,
    ignoreFile: ignoreFile ? { path: ignoreFile, explicit: true } : { path: '.trivyignore', explicit: false },
    vex: list(values.vex),
    offline: values.offline === true,
    maxDbAgeDays: int(values['max-db-age'], 'max-db-age', 0, 36500) ?? DEFAULT_MAX_DB_AGE_DAYS,
    severitySources: severitySources.length > 0 ? severitySources : ['auto'],
  };
}

const sha256 = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** What to scan: an SBOM document, a root filesystem directory, or an image. */
async function produce(
  o: ScanOptions,
  values: Record<string, unknown>,
  io: CliIO,
): Promise<{ sbom: Sbom; artifactType: ArtifactType; sbomDigest?: string }> {
  const target = o.target;
  const path = resolve(io.cwd, target.startsWith('dir:') ? target.slice(4) : target);
  const st = await stat(path).catch(() => undefined);
  if (st?.isFile()) {
    if (st.size > DEFAULT_MAX_SBOM_BYTES) {
      throw new VouchError('SBOM_INVALID', `${target} is ${st.size} bytes, more than an SBOM may have`);
    }
    let bytes: Uint8Array;
    try {
      await using f = await open(path, 'r');
      bytes = await f.readFile();
    } catch (e) {
      throw new VouchError('IO_ERROR', `cannot read ${target}: ${(e as Error).message}`, { cause: e });
    }
    let sbom: Sbom;
    try {
      sbom = readSbom(bytes);
    } catch (e) {
      if (e instanceof VouchError && e.code === 'SBOM_INVALID') {
        throw new VouchError('SBOM_INVALID', `${target}: ${e.message}`, {
          hint: 'a file is scanned as an SBOM (CycloneDX or SPDX JSON); name an image archive docker-archive:FILE or oci-archive:FILE',
          cause: e,
        });
      }
      throw e;
    }
    const format = detectSbomFormat(JSON.parse(new TextDecoder().decode(bytes).replace(/^\uFEFF/, '')));
    return { sbom, artifactType: format === 'spdx' ? 'spdx' : 'cyclonedx', sbomDigest: sha256(bytes) };
  }
  if (st?.isDirectory()) {
    const layout = await stat(`${path}/oci-layout`).catch(() => undefined);
    if (!layout || target.startsWith('dir:'))
      return { sbom: await catalogDirectory(path), artifactType: 'filesystem' };
  }
  const name = st?.isDirectory() ? `oci:${target}` : target;
  if (o.offline && parseImageName(name).transport === 'docker') {
    throw new VouchError('USAGE', `--offline: ${target} names a registry image`, {
      hint: 'scan a local image (oci:DIR, oci-archive:FILE, docker-archive:FILE) or its SBOM, or drop --offline',
    });
  }
  const source = await openSource(name, openOptions(values, io.env));
  try {
    const platform = platformOf(values);
    const { image, index } = await openImage(source, platform ? { platform } : {});
    const sbom = await catalogImage(image, index ? { indexDigest: index.descriptor.digest } : {});
    return { sbom, artifactType: 'container_image' };
  } finally {
    await source.close();
  }
}

/** sha256 over everything that shapes the gate besides findings: ignore file, VEX files, flags. */
function policyDigest(o: ScanOptions, ignore: LoadedFile | undefined, vex: LoadedFile[]): string {
  const canonical = JSON.stringify({
    ignoreFile: ignore?.digest ?? null,
    vex: vex.map((v) => v.digest),
    severities: SEVERITIES.filter((s) => o.severities.includes(s)),
    ignoreUnfixed: o.ignoreUnfixed,
    ignoreStatuses: o.ignoreStatuses ?? [],
    severitySources: o.severitySources,
    exitCode: o.exitCode,
  });
  return sha256(canonical);
}

export function createdAt(env: NodeJS.ProcessEnv): string | undefined {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return new Date(Number(v) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function render(format: ScanFormat, result: GateResult, ctx: ReportContext): string {
  if (format === 'json') return serializeTrivyJson(result, ctx);
  if (format === 'sarif') return serializeSarif(result, ctx);
  return toTable(result, ctx);
}

export const scanCommand: Command = {
  name: 'scan',
  summary: 'Find known vulnerabilities in an image or SBOM and gate on them (trivy-compatible reports)',
  usage:
    'scan IMAGE|SBOM-FILE|DIR [--db PATH] [--format table|json|sarif --output FILE]... [--severity LIST] [--ignore-unfixed] [--ignore-status LIST] [--exit-code N] [--ignorefile FILE] [--vex FILE]... [--offline] [--max-db-age DAYS] [--severity-source LIST]',
  help: [
    'Catalogs the image (as `vouch sbom` does) or reads a CycloneDX/SPDX JSON SBOM, matches every',
    'package against the OSV advisory database, applies the gate and writes reports. Scanning an',
    'image and scanning the SBOM made from it give the same findings. Several --format/--output',
    'pairs write several reports of one result (`--output -` is stdout); without --output, one',
    'report goes to stdout (default: table).',
    '',
    'The gate works as trivy filters, in this order: vouch set-aside rules (e.g. kernel CVEs on',
    'header packages), --severity, --ignore-status / --ignore-unfixed, the ignore file, then VEX.',
    'Every suppressed finding stays in the report with its reason. An exception must say why:',
    '.trivyignore lines need a trailing "# statement", .trivyignore.yaml entries a `statement`;',
    'an exception is inactive from 00:00 UTC on its expiry date. With no --ignorefile, a',
    '.trivyignore in the current directory is used when present (as trivy does).',
    '',
    'Reports record the digests of every input (SBOM or image, database, policy) and the date the',
    'exceptions were evaluated on; timestamps come from SOURCE_DATE_EPOCH or are left out.',
    '',
    'Exit codes:',
    `  0   the gate passed (no finding over the policy)`,
    `  ${GATE_FAILED_EXIT}   the gate failed: findings over the policy (change with --exit-code N; 0 = never fail)`,
    '  1   the scan could not run (bad input, bad ignore file or VEX, missing database, ...)',
    '  2   the command line is wrong',
    '  70  internal error',
    '',
    'Examples:',
    '  vouch scan oci:./out:1.0 --severity HIGH,CRITICAL --ignore-unfixed',
    '  vouch scan sbom.cdx.json --format json --output scan.json --format sarif --output scan.sarif',
    '  vouch scan 127.0.0.1:5000/app:1.0 --ignorefile .trivyignore.yaml --vex app.openvex.json',
  ].join('\n'),
  options: {
    db: { type: 'string', description: 'advisory database (default: VOUCH_DB or the per-user database)' },
    format: {
      type: 'string',
      short: 'f',
      multiple: true,
      description: 'table, json (trivy JSON) or sarif; repeatable',
    },
    output: {
      type: 'string',
      short: 'o',
      multiple: true,
      description: 'file for the matching --format ("-" = stdout); repeatable',
    },
    severity: {
      type: 'string',
      short: 's',
      description: 'severities that fail the gate, e.g. HIGH,CRITICAL (default all)',
    },
    'ignore-unfixed': { type: 'boolean', description: 'ignore findings without a fixed version' },
    'ignore-status': {
      type: 'string',
      description: `ignore these statuses (${FIX_STATUSES.join(',')}); replaces --ignore-unfixed`,
    },
    'exit-code': {
      type: 'string',
      description: `exit code when the gate fails (default ${GATE_FAILED_EXIT}; 0 never fails)`,
    },
    ignorefile: {
      type: 'string',
      description: '.trivyignore or .trivyignore.yaml (default ./.trivyignore when present)',
    },
    vex: {
      type: 'string',
      multiple: true,
      description: 'OpenVEX document; repeatable (later files win ties)',
    },
    offline: {
      type: 'boolean',
      description: 'use no network: refuse registry images, never suggest an update',
    },
    'max-db-age': {
      type: 'string',
      description: `warn when the database is older than DAYS (default ${DEFAULT_MAX_DB_AGE_DAYS})`,
    },
    'severity-source': {
      type: 'string',
      description: 'severity precedence, e.g. nvd,distro,auto (auto = distro,ghsa,cvss_v3,cvss_v4,cvss_v2)',
    },
    ...platformOption,
    ...registryOptions,
  },
  async run({ values, positionals }, io: CliIO) {
    const o = parseScanOptions(values, positionals, io.cwd);
    if (o.ignoreUnfixed && o.ignoreStatuses) {
      println(io.stderr, 'warning: --ignore-status is given, so --ignore-unfixed is ignored (as trivy does)');
    }
    // policy inputs first: a bad ignore file or VEX fails before any expensive work
    const ignorePath = o.ignoreFile ? resolve(io.cwd, o.ignoreFile.path) : undefined;
    const ignore =
      ignorePath && o.ignoreFile
        ? await loadIgnoreFile(ignorePath, { required: o.ignoreFile.explicit, name: o.ignoreFile.path })
        : undefined;
    if (ignore && !o.ignoreFile?.explicit) println(io.stderr, `using ignore file ${o.ignoreFile?.path}`);
    const vex = await loadVexFiles(
      o.vex.map((p) => resolve(io.cwd, p)),
      o.vex,
    );
    const exceptions = ignore?.exceptions ?? [];
    const statements = vex.statements;

    const dbPath = o.db ? resolve(io.cwd, o.db) : defaultDbPath(io.env);
    const db = openAdvisoryDb(dbPath);
    try {
      const meta = db.metadata();
      const stale = checkFreshness(meta, o.maxDbAgeDays);
      if (stale) {
        println(io.stderr, `warning: ${stale}${o.offline ? '' : '; refresh it with `vouch db update`'}`);
      }
      const { sbom, artifactType, sbomDigest } = await produce(o, values, io);
      for (const p of sbom.problems) {
        println(
          io.stderr,
          `problem: ${p.cataloger}: ${p.path}${p.layer ? ` (layer ${p.layer})` : ''}: ${p.message}`,
        );
      }
      const now = new Date();
      const matched = matchSbom(sbom, db, {
        now,
        severityPrecedence: parseSeverityPrecedence(o.severitySources),
      });
      const findings: Finding[] = matched.findings;
      const unknown = matched.unknown.map(undecidedPackage);
      const skipped = matched.skipped.map(undecidedPackage);

      const result = evaluateGate(
        findings,
        {
          severities: o.severities,
          ignoreUnfixed: o.ignoreUnfixed,
          ...(o.ignoreStatuses ? { ignoreStatuses: o.ignoreStatuses } : {}),
          exceptions,
          vex: statements,
          now,
        },
        gateTargetFromSbom(sbom),
      );
      const created = createdAt(io.env);
      const ctx: ReportContext = {
        artifactName: o.target,
        artifactType,
        sbom,
        toolVersion: sbom.tool.version,
        ...(created ? { createdAt: created } : {}),
        policy: {
          severities: result.severities,
          ignoreUnfixed: o.ignoreUnfixed,
          ignoreStatuses: result.ignoredStatuses,
          ...(ignore ? { ignoreFile: o.ignoreFile?.path } : {}),
          vex: o.vex,
          severitySources: o.severitySources,
          exitCode: o.exitCode,
        },
        inputs: {
          ...(sbomDigest ? { sbomDigest } : {}),
          ...(sbom.subject.kind === 'image' ? { imageDigest: sbom.subject.digest } : {}),
          dbDigest: meta.contentDigest,
          policyDigest: policyDigest(o, ignore?.file, vex.files),
          evaluatedOn: now.toISOString().slice(0, 10),
        },
        unknown,
        skipped,
      };

      for (const out of o.outputs) {
        const text = render(out.format, result, ctx);
        if (out.path) await writeFileAtomic(resolve(io.cwd, out.path), text);
        else io.stdout.write(text);
      }
      summarize(result, unknown.length, skipped.length, o, io);
      return result.decision === 'fail' ? o.exitCode : ExitCode.Ok;
    } finally {
      db.close();
    }
  },
};

function summarize(result: GateResult, unknown: number, skipped: number, o: ScanOptions, io: CliIO): void {
  for (const e of result.expiredExceptions) {
    println(
      io.stderr,
      `warning: exception ${e.exception.id ?? '(any id)'} at ${e.source} expired on ${e.exception.expires}`,
    );
  }
  if (unknown > 0) {
    println(
      io.stderr,
      `warning: ${unknown} package(s) could not be decided (e.g. unparseable versions); see the report`,
    );
  }
  if (skipped > 0) {
    println(io.stderr, `note: ${skipped} package(s) were not matched (see "skipped" in the JSON report)`);
  }
  const c = severityCounts(result.kept);
  const counts = SEVERITIES.filter((s) => c[s] > 0)
    .reverse()
    .map((s) => `${s} ${c[s]}`)
    .join(', ');
  println(
    io.stderr,
    result.decision === 'pass'
      ? `gate: PASS (${result.suppressed.length} suppressed)`
      : `gate: FAIL: ${result.kept.length} finding(s) over the policy (${counts}); ${result.suppressed.length} suppressed; exit ${o.exitCode}`,
  );
}
