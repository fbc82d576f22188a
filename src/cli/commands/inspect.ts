import { VouchError } from '../../errors.ts';
import { describeImage, type ImageDescription } from '../../image/describe.ts';
import { openSource } from '../../transport/open.ts';
import { type CliIO, ExitCode, humanSize, println } from '../io.ts';
import type { Command } from '../main.ts';
import { needPositionals, openOptions, platformOf, platformOption, registryOptions } from './common.ts';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Show an image: digest, media type, platforms, config, layers and sizes.',
  usage: 'inspect IMAGE [--format text|json] [--platform os/arch[/variant]] [--raw]',
  help: [
    'For an index, the platform list is shown and the image for --platform (default: this machine)',
    'is described. --raw prints the exact manifest bytes of IMAGE.',
    '',
    'Examples:',
    '  vouch inspect oci:./layout:1.0',
    '  vouch inspect 127.0.0.1:5000/app:1.0 --format json',
  ].join('\n'),
  options: {
    format: { type: 'string', description: 'text (default) or json' },
    raw: { type: 'boolean', description: 'print the raw manifest (or index) bytes' },
    ...platformOption,
    ...registryOptions,
  },
  async run({ values, positionals }, io: CliIO) {
    const [name] = needPositionals(positionals, ['IMAGE'], this.usage);
    const format = values.format ?? 'text';
    if (format !== 'text' && format !== 'json') {
      throw new VouchError('USAGE', `--format must be text or json, not "${String(format)}"`);
    }
    const source = await openSource(name!, openOptions(values, io.env));
    try {
      if (values.raw) {
        io.stdout.write(await source.getManifest(await source.resolve()));
        return ExitCode.Ok;
      }
      const platform = platformOf(values);
      const d = await describeImage(source, platform ? { platform } : {});
      println(io.stdout, format === 'json' ? JSON.stringify(d, null, 2) : renderText(d));
    } finally {
      await source.close();
    }
    return ExitCode.Ok;
  },
};

function renderText(d: ImageDescription): string {
  const out: string[] = [];
  const row = (k: string, v: string) => out.push(`${k.padEnd(13)} ${v}`);
  row('Name:', d.name);
  if (d.index) {
    row('Index:', `${d.index.digest} (${d.index.mediaType})`);
    out.push('Platforms:');
    for (const p of d.index.platforms) out.push(`  ${p.platform.padEnd(20)} ${p.digest}`);
  }
  row('Digest:', d.digest);
  row('Media type:', d.mediaType);
  row('Platform:', d.platform);
  if (d.created) row('Created:', d.created);
  row('User:', d.config.user || '(default: root)');
  row('Entrypoint:', JSON.stringify(d.config.entrypoint));
  row('Cmd:', JSON.stringify(d.config.cmd));
  row('WorkingDir:', d.config.workingDir || '/');
  row('StopSignal:', d.config.stopSignal || '(default)');
  row('Ports:', d.config.exposedPorts.join(', ') || '-');
  row('Volumes:', d.config.volumes.join(', ') || '-');
  out.push('Env:');
  for (const e of d.config.env) out.push(`  ${e}`);
  const labels = Object.entries(d.config.labels);
  out.push(`Labels:${labels.length ? '' : ' -'}`);
  for (const [k, v] of labels) out.push(`  ${k}=${v}`);
  out.push(`Layers (${d.layers.length}, ${humanSize(d.size)}):`);
  for (const l of d.layers) out.push(`  ${l.digest}  ${humanSize(l.size).padStart(10)}  ${l.mediaType}`);
  return out.join('\n');
}
