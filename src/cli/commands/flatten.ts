import { flattenImage } from '../../build/flatten.ts';
import { type CliIO, ExitCode, humanSize, println } from '../io.ts';
import type { Command } from '../main.ts';
import { needPositionals, platformOption, registryOptions } from './common.ts';
import { compressionOf, transformImage } from './transform.ts';

export const flattenCommand: Command = {
  name: 'flatten',
  summary:
    'Squash SRC into a one-layer image at DST, keeping every config field; prints sizes before and after.',
  usage: 'flatten SRC DST [--platform os/arch[/variant]] [--compress gzip|zstd|none] [--json]',
  help: [
    'Whiteouts and opaque directories are applied, so deleted files are really gone. User, Env,',
    'Entrypoint, Cmd, WorkingDir, ExposedPorts, Volumes, StopSignal and Labels are kept; the history',
    'keeps the old entries (marked empty_layer) and adds one for the squash. Same input, same digest.',
    '',
    'Example:',
    '  vouch flatten oci:./build:1.0 oci:./flat:1.0',
  ].join('\n'),
  options: {
    ...platformOption,
    compress: { type: 'string', description: 'layer compression: gzip (default), zstd or none' },
    json: { type: 'boolean', description: 'print the result as JSON' },
    ...registryOptions,
  },
  async run({ values, positionals }, io: CliIO) {
    const [src, dst] = needPositionals(positionals, ['SRC', 'DST'], this.usage);
    const compression = compressionOf(values.compress, 'gzip');
    await transformImage(src!, dst!, values, io.env, async (image, source, dest) => {
      const r = await flattenImage(image, dest, { compression });
      await dest.commit(r.descriptor);
      if (values.json) {
        println(io.stdout, JSON.stringify({ source: source.name, destination: dest.name, ...r }, null, 2));
      } else {
        println(io.stdout, `Flattened ${source.name} to ${dest.name}`);
        println(io.stdout, `  digest: ${r.descriptor.digest}`);
        println(io.stdout, `  before: ${r.before.layers} layers, ${humanSize(r.before.size)}`);
        println(io.stdout, `  after:  ${r.after.layers} layer, ${humanSize(r.after.size)}`);
        for (const p of r.problems) println(io.stderr, `  skipped ${p.path} (layer ${p.layer}): ${p.reason}`);
      }
    });
    return ExitCode.Ok;
  },
};
