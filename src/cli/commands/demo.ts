import { join } from 'node:path';
import { runDemo } from '../../demo/demo.ts';
import { type CliIO, ExitCode, println } from '../io.ts';
import type { Command } from '../main.ts';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run vouch end to end on the bundled example: no network, no daemon.',
  usage: 'demo [--dir DIR] [--json]',
  help: [
    'Builds examples/hello reproducibly (twice, comparing digests), inspects it, flattens it, copies',
    'it to an oci-archive and a docker-archive and back, extracts its filesystem safely, and shows',
    'that a tampered layer is rejected. Everything lands in DIR (default ./.vouch-demo).',
  ].join('\n'),
  options: {
    dir: { type: 'string', description: 'where results land (default ./.vouch-demo, replaced on each run)' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  async run({ values }, io: CliIO) {
    const workDir = typeof values.dir === 'string' ? values.dir : join(io.cwd, '.vouch-demo');
    const started = Date.now();
    const r = await runDemo({ workDir, log: (l) => println(values.json ? io.stderr : io.stdout, l) });
    const ok = r.reproducible && r.tamperRejected !== '';
    if (values.json) {
      println(io.stdout, JSON.stringify({ ok, ...r }, null, 2));
    } else {
      println(io.stdout, '');
      println(io.stdout, `Done in ${((Date.now() - started) / 1000).toFixed(1)} s. Results:`);
      println(io.stdout, `  image          ${r.image}  (${r.digest})`);
      println(io.stdout, `  flattened      ${r.flattened}`);
      println(io.stdout, `  archives       ${r.archives.oci}, ${r.archives.docker}`);
      println(io.stdout, `  filesystem     ${r.rootfs}`);
      println(io.stdout, `Try: npx vouch inspect ${r.image}`);
    }
    return ok ? ExitCode.Ok : ExitCode.Failure;
  },
};
