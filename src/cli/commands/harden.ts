import {
  DEFAULT_HARDEN_CATEGORIES,
  HARDEN_CATEGORIES,
  type HardenCategory,
  type HardenResult,
  hardenImage,
} from '../../build/harden.ts';
import { VouchError } from '../../errors.ts';
import { type CliIO, ExitCode, humanSize, println } from '../io.ts';
import type { Command } from '../main.ts';
import { needPositionals, platformOption, registryOptions } from './common.ts';
import { compressionOf, transformImage } from './transform.ts';

const OPT_IN: readonly HardenCategory[] = HARDEN_CATEGORIES.filter(
  (c) => !DEFAULT_HARDEN_CATEGORIES.includes(c),
);

export const hardenCommand: Command = {
  name: 'harden',
  summary:
    'Remove package managers, docs and caches from an image (one whiteout layer) and set a non-root user',
  usage:
    'harden SRC DST [--user U] [--keep CATEGORY]... [--also CATEGORY]... [--remove PATH]... [--format text|json]',
  help: [
    `Adds ONE layer of whiteouts to SRC, written to DST. Categories removed by default:`,
    `${DEFAULT_HARDEN_CATEGORIES.join(', ')}; on request (--also): ${OPT_IN.join(', ')}.`,
    'Package databases (/var/lib/dpkg/status, /lib/apk/db, the rpm database) and /usr/share/doc/*/copyright',
    'are kept: SBOM scanners and license checks read them. The user becomes --user, else stays when',
    'the image already runs as a non-root user, else 65532:65532. Every other config field is kept.',
    'Whiteouts hide files; flatten the result (vouch flatten) to drop their bytes. Same input, same digest.',
    '',
    'Examples:',
    '  vouch harden oci:./build:1.0 oci:./hard:1.0',
    '  vouch harden oci:./build:1.0 oci:./hard:1.0 --keep docs --also pip --remove /opt/app/tests',
  ].join('\n'),
  options: {
    user: { type: 'string', description: 'user to run as, e.g. 65532:65532 or app (must not be root)' },
    keep: {
      type: 'string',
      multiple: true,
      description: `do not remove this category (${DEFAULT_HARDEN_CATEGORIES.join(', ')}); repeatable`,
    },
    also: {
      type: 'string',
      multiple: true,
      description: `also remove this category (${OPT_IN.join(', ')}); repeatable`,
    },
    remove: { type: 'string', multiple: true, description: 'also remove this path or glob; repeatable' },
    format: { type: 'string', description: 'text (default) or json' },
    compress: { type: 'string', description: 'whiteout layer compression: gzip (default), zstd or none' },
    ...platformOption,
    ...registryOptions,
  },
  async run({ values, positionals }, io: CliIO) {
    const [src, dst] = needPositionals(positionals, ['SRC', 'DST'], this.usage);
    const format = (values.format ?? 'text') as string;
    if (format !== 'text' && format !== 'json') {
      throw new VouchError('USAGE', `--format must be text or json, not "${format}"`);
    }
    const compression = compressionOf(values.compress, 'gzip');
    const categories = chooseCategories(strings(values.keep), strings(values.also));
    await transformImage(src!, dst!, values, io.env, async (image, source, dest) => {
      const r = await hardenImage(image, dest, {
        categories,
        remove: strings(values.remove),
        ...(typeof values.user === 'string' ? { user: values.user } : {}),
        compression,
      });
      await dest.commit(r.descriptor);
      if (format === 'json') {
        println(io.stdout, JSON.stringify({ source: source.name, destination: dest.name, ...r }, null, 2));
      } else {
        println(io.stdout, renderText(source.name, dest.name, r));
        for (const p of r.problems) println(io.stderr, `  skipped ${p.path} (layer ${p.layer}): ${p.reason}`);
      }
    });
    return ExitCode.Ok;
  },
};

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function chooseCategories(keep: readonly string[], also: readonly string[]): HardenCategory[] {
  for (const [flag, list, allowed] of [
    ['--keep', keep, DEFAULT_HARDEN_CATEGORIES],
    ['--also', also, OPT_IN],
  ] as const) {
    for (const c of list) {
      if (!(allowed as readonly string[]).includes(c)) {
        throw new VouchError('USAGE', `${flag} ${c}: expected one of ${allowed.join(', ')}`);
      }
    }
  }
  return HARDEN_CATEGORIES.filter(
    (c) => (DEFAULT_HARDEN_CATEGORIES.includes(c) && !keep.includes(c)) || also.includes(c),
  );
}

function renderText(src: string, dst: string, r: HardenResult): string {
  const out = [`Hardened ${src} to ${dst}`, `  digest:  ${r.descriptor.digest}`];
  out.push(
    `  user:    ${r.user.after || '(root)'}${r.user.changed ? ` (was ${r.user.before || 'unset'})` : ''}: ${r.user.reason}`,
  );
  out.push(
    `  removed: ${r.total.paths} paths, ${r.total.entries} entries, ${humanSize(r.total.bytes)} (dropped once flattened)`,
  );
  for (const s of r.summary) {
    out.push(
      `    ${s.category.padEnd(17)} ${String(s.paths).padStart(6)} paths ${String(s.entries).padStart(8)} entries ${humanSize(s.bytes).padStart(10)}`,
    );
  }
  if (r.keptDatabases.length > 0) out.push(`  kept package databases: ${r.keptDatabases.join(', ')}`);
  if (r.notFound.length > 0) out.push(`  not in the image (nothing removed): ${r.notFound.join(', ')}`);
  out.push(
    r.layer
      ? `  layers:  ${r.before.layers} -> ${r.after.layers} (whiteout layer ${r.layer.digest}, ${humanSize(r.layer.size)})`
      : `  layers:  ${r.before.layers} (nothing to remove, no layer added)`,
  );
  if (r.removed.length > 0) {
    out.push('  paths removed:');
    for (const p of r.removed) {
      out.push(
        `    ${p.category.padEnd(17)} ${p.path} (${p.type}, ${p.entries} ${p.entries === 1 ? 'entry' : 'entries'}, ${humanSize(p.bytes)})`,
      );
    }
  }
  return out.join('\n');
}
