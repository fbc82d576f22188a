import { resolve } from 'node:path';
import { VouchError } from '../../errors.ts';
import {
  checkFreshness,
  DEFAULT_MAX_AGE_DAYS,
  DEFAULT_OSV_BASE_URL,
  dbStatus,
  defaultDbPath,
  type ImportResult,
  importOsv,
  updateDb,
} from '../../vuln/db/index.ts';
import { type CliIO, ExitCode, humanSize, println } from '../io.ts';
import type { Command, OptionSpec } from '../main.ts';

const SUBCOMMANDS = ['import', 'update', 'status'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

const options = {
  db: {
    type: 'string',
    description: 'database file (default $VOUCH_DB, else $XDG_CACHE_HOME or ~/.cache: vouch/osv.db)',
  },
  fresh: { type: 'boolean', description: 'import: keep only these inputs (default: other sources stay)' },
  ecosystem: {
    type: 'string',
    multiple: true,
    description:
      'update: an OSV ecosystem (Debian, PyPI, Go, npm, ...); repeat; default: those already in the database',
  },
  'base-url': {
    type: 'string',
    description: `update: where <Ecosystem>/all.zip lives (default ${DEFAULT_OSV_BASE_URL})`,
  },
  offline: {
    type: 'boolean',
    description: 'update: refuse (no network allowed); use `db import` with a downloaded zip',
  },
  json: { type: 'boolean', description: 'status: print JSON' },
  'max-age': {
    type: 'string',
    description: `status: warn when older than DAYS (default ${DEFAULT_MAX_AGE_DAYS})`,
  },
} as const satisfies Record<string, OptionSpec>;

/** Which options each subcommand takes (`db` all of them). */
const APPLIES: Record<Sub, (keyof typeof options)[]> = {
  import: ['db', 'fresh'],
  update: ['db', 'ecosystem', 'base-url', 'offline'],
  status: ['db', 'json', 'max-age'],
};

const n = (x: number) => x.toLocaleString('en-US');

/** `\r`-rewritten progress on a terminal, at most ten times a second; nothing otherwise. */
function progressLine(io: CliIO): { show(s: string): void; clear(): void } {
  let last = 0;
  let shown = false;
  return {
    show(s) {
      if (!io.stderr.isTTY) return;
      const t = performance.now();
      if (t - last < 100) return;
      last = t;
      shown = true;
      io.stderr.write(`\r\x1b[K${s}`);
    },
    clear() {
      if (shown) io.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}

function rate(done: number, seconds: number): string {
  return seconds > 0 ? `${n(Math.round(done / seconds))} records/s` : '';
}

function printImport(r: ImportResult, io: CliIO): void {
  for (const p of r.problems) println(io.stderr, `problem: ${p.location}: ${p.entry}: ${p.message}`);
  if (r.problemCount > r.problems.length) {
    println(io.stderr, `problem: ... and ${n(r.problemCount - r.problems.length)} more malformed records`);
  }
  for (const note of r.notes) println(io.stderr, `note: ${note}`);
  const m = r.metadata;
  println(
    io.stderr,
    `read ${n(r.read)} records in ${r.seconds.toFixed(2)} s (${rate(r.read, r.seconds)}): ${n(r.inserted)} new, ` +
      `${n(r.replaced)} replaced by newer, ${n(r.ignored)} duplicates kept as they were` +
      (r.problemCount ? `, ${n(r.problemCount)} malformed skipped` : ''),
  );
  println(
    io.stderr,
    `${r.dbPath}: ${n(m.records)} records (${n(m.withdrawn)} withdrawn) from ${m.sources.length} sources`,
  );
}

export const dbCommand: Command = {
  name: 'db',
  summary: 'Manage the OSV advisory database that scans match against: import, update, status.',
  usage: 'db import PATH... | db update [--ecosystem E]... | db status [--json]   [--db FILE]',
  help: [
    'vouch db import PATH...   import OSV data: all.zip files (as OSV exports them per ecosystem),',
    '                          directories of OSV *.json records (searched recursively), or .json files.',
    '                          Other sources already in the database stay unless --fresh; a PATH imported',
    '                          again replaces its previous records. Malformed records are reported and',
    '                          skipped; a corrupt zip fails the import and leaves the database unchanged.',
    'vouch db update           download <base-url>/<Ecosystem>/all.zip for each --ecosystem (default: the',
    '                          ones already downloaded), skipping unchanged ones (ETag, Last-Modified,',
    '                          sha256), and import the rest in one atomic swap. A failed download keeps',
    "                          that ecosystem's previous records and makes the exit code 1.",
    'vouch db status           what the database holds, where it came from and how old it is.',
    '',
    'The database is replaced atomically: scans never see a half-written one, and a failed or',
    'interrupted import or update leaves the previous one in place.',
    '',
    'Examples:',
    '  vouch db update --ecosystem Debian --ecosystem PyPI --ecosystem Go',
    '  vouch db import ./Debian-all.zip ./advisories/ --db ./osv.db',
    '  vouch db status --json',
  ].join('\n'),
  options,
  async run({ values, positionals }, io) {
    const [sub, ...args] = positionals;
    if (!SUBCOMMANDS.includes(sub as Sub)) {
      throw new VouchError('USAGE', sub ? `unknown db subcommand "${sub}"` : 'missing db subcommand', {
        hint: `usage: vouch ${this.usage}`,
      });
    }
    const s = sub as Sub;
    for (const k of Object.keys(values) as (keyof typeof options)[]) {
      if (values[k] !== undefined && !APPLIES[s].includes(k)) {
        throw new VouchError('USAGE', `--${k} does not apply to vouch db ${s}`);
      }
    }
    const dbPath = typeof values.db === 'string' ? resolve(io.cwd, values.db) : defaultDbPath(io.env);
    if (s === 'import') return runImport(dbPath, args, values, io);
    if (args.length > 0) throw new VouchError('USAGE', `vouch db ${s} takes no arguments, got "${args[0]}"`);
    if (s === 'update') return runUpdate(dbPath, values, io);
    return runStatus(dbPath, values, io);
  },
};

async function runImport(
  dbPath: string,
  args: string[],
  values: Record<string, unknown>,
  io: CliIO,
): Promise<number> {
  if (args.length === 0)
    throw new VouchError('USAGE', 'vouch db import needs at least one PATH (zip, directory or .json)');
  const line = progressLine(io);
  const r = await importOsv(
    dbPath,
    args.map((a) => resolve(io.cwd, a)),
    {
      fresh: values.fresh === true,
      onProgress: (p) =>
        line.show(
          `importing ${p.location}: ${n(p.done)}${p.total ? `/${n(p.total)}` : ''} records (${rate(p.done, p.seconds)})`,
        ),
    },
  );
  line.clear();
  printImport(r, io);
  return ExitCode.Ok;
}

async function runUpdate(dbPath: string, values: Record<string, unknown>, io: CliIO): Promise<number> {
  if (values.offline) {
    throw new VouchError('USAGE', 'vouch db update downloads from the network, which --offline forbids', {
      hint: 'on a connected machine fetch <Ecosystem>/all.zip, then here: vouch db import all.zip',
    });
  }
  const line = progressLine(io);
  const ecosystems = (values.ecosystem as string[] | undefined) ?? [];
  const r = await updateDb(dbPath, {
    ecosystems,
    ...(typeof values['base-url'] === 'string' ? { baseUrl: values['base-url'] } : {}),
    onProgress: (p) =>
      line.show(
        p.phase === 'download'
          ? `downloading ${p.ecosystem}: ${humanSize(p.bytes)}${p.total ? ` of ${humanSize(p.total)}` : ''}`
          : `importing ${p.location}: ${n(p.done)}${p.total ? `/${n(p.total)}` : ''} records (${rate(p.done, p.seconds)})`,
      ),
  });
  line.clear();
  for (const e of r.ecosystems) {
    const what =
      e.status === 'updated'
        ? `updated (${humanSize(e.bytes ?? 0)}, ${n(e.records ?? 0)} records)`
        : e.status === 'unchanged'
          ? `unchanged (${e.detail})`
          : `FAILED: ${e.detail}`;
    println(e.status === 'failed' ? io.stderr : io.stdout, `${e.ecosystem}: ${what}`);
  }
  if (r.import) printImport(r.import, io);
  if (r.failed.length > 0) {
    println(
      io.stderr,
      `vouch db update: ${r.failed.length} of ${r.ecosystems.length} ecosystems failed; ` +
        (r.metadata ? 'their previous records (if any) are still in use' : 'no database was written'),
    );
    return ExitCode.Failure;
  }
  return ExitCode.Ok;
}

function runStatus(dbPath: string, values: Record<string, unknown>, io: CliIO): number {
  let maxAge = DEFAULT_MAX_AGE_DAYS;
  if (typeof values['max-age'] === 'string') {
    maxAge = Number(values['max-age']);
    if (!/^\d+(\.\d+)?$/.test(values['max-age'])) {
      throw new VouchError('USAGE', `--max-age must be a number of days, not "${values['max-age']}"`);
    }
  }
  const st = dbStatus(dbPath);
  const warning = checkFreshness(st.metadata, maxAge);
  if (values.json) {
    println(io.stdout, JSON.stringify({ ...st, warning: warning ?? null }, null, 2));
    return ExitCode.Ok;
  }
  const m = st.metadata;
  const ago =
    st.ageDays < 2
      ? `${Math.max(0, Math.floor(st.ageDays * 24))} hours ago`
      : `${Math.floor(st.ageDays)} days ago`;
  const rows: [string, string][] = [
    ['database', `${st.path} (${humanSize(st.sizeBytes)}, schema ${m.schemaVersion})`],
    ['imported', m.importedAt],
    ['checked', `${st.checkedAt} (${ago})`],
    [
      'records',
      `${n(m.records)} (${n(m.withdrawn)} withdrawn)${m.newestModified ? `, newest modified ${m.newestModified}` : ''}`,
    ],
    ['digest', m.contentDigest],
    [
      'ecosystems',
      Object.entries(m.ecosystems)
        .map(([e, c]) => `${e} ${n(c)}`)
        .join(', ') || '(none)',
    ],
  ];
  for (const [k, v] of rows) println(io.stdout, `${k.padEnd(11)} ${v}`);
  println(io.stdout, 'sources');
  for (const s of m.sources) {
    println(
      io.stdout,
      `  ${s.ecosystem.padEnd(12)} ${n(s.records).padStart(9)}  ${s.location}  (checked ${s.checkedAt})`,
    );
  }
  if (warning) println(io.stderr, `warning: ${warning}; refresh it with \`vouch db update\``);
  return ExitCode.Ok;
}
