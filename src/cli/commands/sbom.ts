import { stat } from 'node:fs/promises';
import { VouchError } from '../../errors.ts';
import { openImage } from '../../image/describe.ts';
import { catalogDirectory, catalogImage } from '../../sbom/catalog.ts';
import { renderTable, serializeCycloneDx, serializeSpdx } from '../../sbom/format/index.ts';
import type { Sbom } from '../../sbom/model.ts';
import { openSource } from '../../transport/open.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { type CliIO, ExitCode, println } from '../io.ts';
import type { Command } from '../main.ts';
import { needPositionals, openOptions, platformOf, platformOption, registryOptions } from './common.ts';

const FORMATS = ['cyclonedx', 'spdx', 'table', 'json'] as const;
type Format = (typeof FORMATS)[number];

export const sbomCommand: Command = {
  name: 'sbom',
  summary: 'List every package in an image or a root filesystem as CycloneDX 1.6, SPDX 2.3, a table or JSON.',
  usage: 'sbom IMAGE|DIR [--format cyclonedx|spdx|table|json] [--output FILE] [--platform os/arch[/variant]]',
  help: [
    'Catalogs OS packages (dpkg, apk, rpm) and language packages (npm/yarn/pnpm, Python, Go binaries,',
    'Java archives, Rust cargo-auditable, RubyGems). A language package that an OS package installed is',
    'reported once, nested under it. Files no package owns (executables, shared libraries) are listed so',
    'an incomplete picture is visible. Problems with metadata files are reported, never silently dropped.',
    '',
    'IMAGE is any image name (oci:DIR:TAG, docker-archive:FILE, a registry reference); DIR (or dir:DIR)',
    'is a root filesystem on disk. The default format is a table on a terminal and CycloneDX otherwise.',
    'Output is deterministic; set SOURCE_DATE_EPOCH to fix the timestamp.',
    '',
    'Examples:',
    '  vouch sbom oci:./out:1.0',
    '  vouch sbom docker-archive:app.tar --format spdx --output sbom.spdx.json',
    '  vouch sbom ./rootfs --format json',
  ].join('\n'),
  options: {
    format: { type: 'string', short: 'o', description: 'cyclonedx, spdx, table or json (vouch model)' },
    output: { type: 'string', description: 'write to FILE (atomically) instead of stdout' },
    ...platformOption,
    ...registryOptions,
  },
  async run({ values, positionals }, io: CliIO) {
    const [target] = needPositionals(positionals, ['IMAGE or DIR'], this.usage);
    const output = typeof values.output === 'string' ? values.output : undefined;
    const format = (values.format ?? (io.stdout.isTTY && !output ? 'table' : 'cyclonedx')) as Format;
    if (!FORMATS.includes(format)) {
      throw new VouchError('USAGE', `--format must be one of ${FORMATS.join(', ')}, not "${format}"`);
    }
    const progress = io.stderr.isTTY ? (line: string) => io.stderr.write(`\r\x1b[K${line}`) : undefined;
    const sbom = await produce(target!, values, io, progress);
    if (progress) io.stderr.write('\r\x1b[K');
    for (const p of sbom.problems) {
      println(
        io.stderr,
        `problem: ${p.cataloger}: ${p.path}${p.layer ? ` (layer ${p.layer})` : ''}: ${p.message}`,
      );
    }
    const text =
      format === 'cyclonedx'
        ? serializeCycloneDx(sbom)
        : format === 'spdx'
          ? serializeSpdx(sbom)
          : format === 'table'
            ? `${renderTable(sbom)}\n`
            : `${JSON.stringify(sbom, null, 2)}\n`;
    if (output) {
      await writeFileAtomic(output, text);
      println(
        io.stderr,
        `wrote ${format} SBOM of ${sbom.subject.name} (${sbom.packages.length} packages) to ${output}`,
      );
    } else {
      io.stdout.write(text);
    }
    return ExitCode.Ok;
  },
};

async function produce(
  target: string,
  values: Record<string, unknown>,
  io: CliIO,
  progress: ((line: string) => void) | undefined,
): Promise<Sbom> {
  const local = await localKind(target);
  if (local.kind === 'rootfs') return catalogDirectory(local.path, progress ? { onProgress: progress } : {});
  const name = local.kind === 'layout' ? `oci:${local.path}` : target;
  const source = await openSource(name, openOptions(values, io.env));
  try {
    const platform = platformOf(values);
    const { image, index } = await openImage(source, platform ? { platform } : {});
    return await catalogImage(image, {
      ...(index ? { indexDigest: index.descriptor.digest } : {}),
      ...(progress ? { onProgress: progress } : {}),
    });
  } finally {
    await source.close();
  }
}

/** `dir:PATH` or an existing directory is a root filesystem, unless it is an OCI layout. */
async function localKind(
  target: string,
): Promise<{ kind: 'rootfs' | 'layout' | 'image-name'; path: string }> {
  if (target.startsWith('dir:')) return { kind: 'rootfs', path: target.slice(4) };
  const st = await stat(target).catch(() => undefined);
  if (!st?.isDirectory()) return { kind: 'image-name', path: target };
  const layout = await stat(`${target}/oci-layout`).catch(() => undefined);
  return { kind: layout ? 'layout' : 'rootfs', path: target };
}
