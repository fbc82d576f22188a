/**
 * `vouch demo`: the whole pipeline on the bundled example, offline, then verified as a consumer
 * would (src/demo/demo.ts). Exit 0 when the release verified, the rebuild was identical and
 * every tampering was rejected; 1 otherwise.
 */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DEMO_EPOCH, runDemo } from '../../demo/demo.ts';
import { EXAMPLE_DIR } from '../../demo/project.ts';
import { renderLanded } from '../../demo/render.ts';
import { openWorkDir } from '../../demo/workdir.ts';
import { type CliIO, ExitCode, println } from '../io.ts';
import type { Command, OptionSpec } from '../main.ts';

const BIN = fileURLToPath(new URL('../../../bin/vouch.js', import.meta.url));

const options = {
  'work-dir': {
    type: 'string',
    description: 'where everything lands (default: a new temp directory); replaced if an earlier demo’s',
  },
  keep: { type: 'boolean', description: 'keep the temp directory afterwards (a --work-dir is always kept)' },
  json: { type: 'boolean', description: 'print the result as JSON on stdout (progress goes to stderr)' },
} as const satisfies Record<string, OptionSpec>;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the whole pipeline on the bundled example offline, then verify it as a consumer',
  usage: 'demo [--work-dir DIR] [--keep] [--json]',
  help: [
    'Copies examples/hello (vouch.yaml, app/, data/, advisories/) into a work directory, makes a',
    'throwaway key pair and an advisory database from the bundled OSV records, and runs every',
    'pipeline stage (build, harden, flatten, test, SBOM, scan and gate, provenance, sign, push) into',
    'an OCI layout standing in for the registry and a local artifact store. Then, holding only the',
    'public key, it verifies the release as a consumer (vouch verify-release, the provenance of the',
    'local build, every stored artifact’s .sig) and downloads the SBOMs; builds again from a fresh',
    'copy to show the digests are reproducible; and shows two kinds of tampering rejected. No network,',
    'no daemon. It ends with where everything landed.',
    '',
    'Without --work-dir the results go to a new temp directory, removed at the end unless --keep (or',
    'unless something failed). A --work-dir must be new, empty, or an earlier demo’s.',
    '',
    'Examples:',
    '  npm run demo',
    '  npx vouch demo --keep',
    '  npx vouch demo --work-dir /tmp/vouch-demo --json > demo.json',
  ].join('\n'),
  options,
  async run({ values }, io: CliIO) {
    const started = performance.now();
    const json = values.json === true;
    const keep = values.keep === true;
    const out = json ? io.stderr : io.stdout;
    const workDir = typeof values['work-dir'] === 'string' ? values['work-dir'] : undefined;
    const w = await openWorkDir(workDir, { cwd: io.cwd, protect: [EXAMPLE_DIR] });
    const removeAtEnd = w.temporary && !keep;
    println(
      out,
      'vouch demo: the bundled example through the whole pipeline, offline (no network, no daemon)',
    );
    println(out, `work directory ${w.path}${removeAtEnd ? ' (removed at the end; --keep keeps it)' : ''}`);
    println(out);
    const color = !json && io.stdout.isTTY === true && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
    let r: Awaited<ReturnType<typeof runDemo>>;
    try {
      r = await runDemo({ workDir: w.path, log: (l) => println(out, l), color });
    } catch (e) {
      println(io.stderr, `vouch demo stopped; its work directory stays for inspection: ${w.path}`);
      throw e;
    }
    const took = seconds(performance.now() - started);
    if (json) println(io.stdout, JSON.stringify(r, null, 2));
    println(out);
    if (r.status === 'pipeline-failed') {
      println(out, `The pipeline failed (${r.reason}) after ${took}; everything stays in ${w.path}`);
      return ExitCode.Failure;
    }
    for (const line of renderLanded(r)) println(out, line);
    println(out);
    println(
      out,
      r.ok
        ? `Done in ${took}: built, hardened, flattened, tested, scanned, signed and published; verified as a consumer; reproducible; tampering rejected.`
        : `FAILED after ${took}: see the lines marked ✗ or NOT above; everything stays in ${w.path}`,
    );
    if (removeAtEnd && r.ok) {
      await rm(w.path, { recursive: true, force: true });
      println(out, `Removed ${w.path}; run \`npm run demo -- --keep\` to look around.`);
    } else if (r.ok) {
      println(out, 'Try, as a consumer:');
      println(out, `  cd ${w.path}`);
      println(
        out,
        `  node ${BIN} verify-release oci:registry:${r.image.version} --key cosign.pub --skip-provenance --require-vuln-attestation`,
      );
      println(
        out,
        `  node ${BIN} verify-attestation --key cosign.pub --type slsaprovenance1 oci:registry:${r.image.version}`,
      );
      println(
        out,
        `  SOURCE_DATE_EPOCH=${DEMO_EPOCH} node ${BIN} pipeline run --password-file cosign.password   # the same digests again`,
      );
    }
    return r.ok ? ExitCode.Ok : ExitCode.Failure;
  },
};
