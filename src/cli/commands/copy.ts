import { type CopyEvent, type CopyResult, copyImage } from '../../copy/copy.ts';
import type { AttachmentEndpoints } from '../../copy/referrers.ts';
import { VouchError } from '../../errors.ts';
import type { Compression } from '../../oci/media-types.ts';
import { openDestination, openSource } from '../../transport/open.ts';
import { type CliIO, ExitCode, humanSize, println } from '../io.ts';
import type { Command } from '../main.ts';
import { needPositionals, openOptions, platformOf, platformOption, registryOptions } from './common.ts';

export const copyCommand: Command = {
  name: 'copy',
  summary:
    'Copy an image or a whole index from SRC to DST. Without --format/--compress, digests are unchanged.',
  usage:
    'copy SRC DST [--platform os/arch[/variant] | --all] [--format oci|docker] [--compress gzip|zstd|none] [--no-attachments]',
  help: [
    'Every blob and manifest is checked against its digest while it streams; the destination tag is',
    'written last, so a failed copy never leaves a tag pointing at a partial image.',
    '',
    'What refers to each manifest copied comes along, byte for byte, before the tag is written:',
    'OCI referrers (Sigstore bundles, SBOMs, attestations; the Referrers API or its fallback tag)',
    'and cosign tag-scheme attachments (sha256-<hex>.sig, .att, .sbom), recursively. A registry',
    'without the Referrers API gets the fallback tag index; an OCI layout named with a TAG gets',
    'index.json entries; archives and untagged layouts do not take them (noted in the output).',
    'Manifests rewritten by --format or --compress lose their attachments, which sign the',
    'original digest.',
    '',
    'Examples:',
    '  vouch copy oci:./layout:1.0 127.0.0.1:5000/app:1.0',
    '  vouch copy docker://127.0.0.1:5000/app:1.0 docker-archive:app.tar:app:1.0 --platform linux/arm64',
    '  vouch copy oci:./multi:1.0 oci-archive:multi.tar:1.0 --all',
  ].join('\n'),
  options: {
    ...platformOption,
    all: {
      type: 'boolean',
      description: 'copy every platform of an index (the default when DST can hold an index)',
    },
    format: { type: 'string', description: 'rewrite manifests as oci or docker (changes digests)' },
    compress: { type: 'string', description: 'recompress layers: gzip, zstd or none (changes digests)' },
    'no-attachments': {
      type: 'boolean',
      description: 'copy the image alone: no signatures, attestations, SBOMs or other referrers',
    },
    json: { type: 'boolean', description: 'print the result as JSON' },
    ...registryOptions,
  },
  async run({ values, positionals }, io: CliIO) {
    const [src, dst] = needPositionals(positionals, ['SRC', 'DST'], this.usage);
    const format = values.format;
    if (format !== undefined && format !== 'oci' && format !== 'docker') {
      throw new VouchError('USAGE', `--format must be oci or docker, not "${String(format)}"`);
    }
    const compress = values.compress;
    if (compress !== undefined && !['gzip', 'zstd', 'none'].includes(String(compress))) {
      throw new VouchError('USAGE', `--compress must be gzip, zstd or none, not "${String(compress)}"`);
    }
    if (values.all && values.platform)
      throw new VouchError('USAGE', '--all and --platform exclude each other');
    const oo = openOptions(values, io.env);
    const source = await openSource(src!, oo);
    try {
      // Resolve the source (for a registry: the first round trips) while the destination opens.
      const resolving = source.resolve();
      resolving.catch(() => {}); // awaited below, unless opening the destination fails first
      const dest = await openDestination(dst!, oo);
      let attachments: AttachmentEndpoints | undefined;
      try {
        if (!values['no-attachments']) {
          const { openAttachmentEndpoints } = await import('../../copy/referrers.ts');
          attachments = await openAttachmentEndpoints(src!, dst!, oo);
        }
        const platform = values.all ? 'all' : platformOf(values);
        const started = Date.now();
        await resolving; // copyImage resolves again and gets this same, cached answer
        const result = await copyImage(source, dest, {
          ...(platform ? { platform } : {}),
          ...(format ? { format: format as 'oci' | 'docker' } : {}),
          ...(compress ? { compression: compress as Compression } : {}),
          ...(attachments ? { attachments } : {}),
          ...(io.stderr.isTTY ? { onEvent: (e: CopyEvent) => progress(e, io) } : {}),
        });
        const seconds = (Date.now() - started) / 1000;
        if (values.json) {
          println(
            io.stdout,
            JSON.stringify({ source: source.name, destination: dest.name, ...result, seconds }, null, 2),
          );
        } else {
          println(io.stdout, `Copied ${source.name} to ${dest.name}`);
          println(io.stdout, `  digest: ${result.descriptor.digest} (${result.descriptor.mediaType})`);
          if (result.images.length > 1) println(io.stdout, `  images: ${result.images.length}`);
          println(io.stdout, `  transferred: ${humanSize(result.bytes)} in ${seconds.toFixed(1)} s`);
          printAttachments(result, io);
        }
      } finally {
        await attachments?.close();
        await dest.close();
      }
    } finally {
      await source.close();
    }
    return ExitCode.Ok;
  },
};

function printAttachments(result: CopyResult, io: CliIO): void {
  const a = result.attachments;
  if (a === undefined) return;
  if (a.carried.length > 0) println(io.stdout, `  attachments: ${a.carried.length}`);
  for (const c of a.carried) {
    const what = c.tag ?? c.artifactType ?? c.mediaType;
    println(io.stdout, `    ${c.kind.padEnd(11)} ${c.digest} ${what} (on ${c.subject.slice(0, 19)})`);
  }
  for (const note of a.notes) println(io.stdout, `  note: ${note}`);
}

function progress(e: CopyEvent, io: CliIO): void {
  if (e.type === 'blob-done') {
    println(io.stderr, `${e.skipped ? 'exists ' : 'copied '} ${e.digest.slice(0, 19)} ${humanSize(e.size)}`);
  } else if (e.type === 'manifest') {
    println(io.stderr, `manifest ${e.digest.slice(0, 19)}`);
  }
}
