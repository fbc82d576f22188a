/**
 * Sigstore bench: bundle verifications per second on a warm trusted root (parsed once, its
 * trust material cached), for the conformance suite's public-good keyless bundle
 * (happy-path-v0.3: certificate chain, SCT, SET, inclusion proof, checkpoint, identity policy)
 * and its key-based bundle (managed-key-happy-path: key, SET, inclusion proof, checkpoint).
 * Reads ../shared/data/sigstore-conformance (CI has it beside the clone).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseVerificationKey } from '../src/sign/keys/load.ts';
import { publicGoodTrustedRoot } from '../src/sigstore/trust-root.ts';
import type { Artifact, BundleVerifyOptions } from '../src/sigstore/types.ts';
import { verifyBundle } from '../src/sigstore/verify.ts';
import { BEACON, CONFORMANCE, GITHUB_ISSUER } from '../test/sigstore/helpers/conformance.ts';

export interface SigstoreBenchRow {
  bundle: string;
  perSecond: number;
  medianMs: number;
}

async function measure(
  label: string,
  bundle: Buffer,
  artifact: Artifact,
  o: BundleVerifyOptions,
  seconds: number,
): Promise<SigstoreBenchRow> {
  for (let i = 0; i < 20; i++) await verifyBundle(bundle, artifact, o); // warm up (JIT, trust material)
  const times: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    await verifyBundle(bundle, artifact, o);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const total = times.reduce((a, b) => a + b, 0);
  return {
    bundle: label,
    perSecond: (times.length * 1000) / total,
    medianMs: times[Math.floor(times.length / 2)]!,
  };
}

export async function runSigstoreBench(
  o: { seconds?: number; quiet?: boolean } = {},
): Promise<SigstoreBenchRow[]> {
  const seconds = o.seconds ?? Number(process.env.BENCH_SECONDS ?? 2);
  if (!existsSync(CONFORMANCE))
    throw new Error(`${CONFORMANCE} is missing: the bench reads conformance bundles`);
  const read = (c: string, f: string) => readFileSync(join(CONFORMANCE, c, f));
  const trustedRoot = await publicGoodTrustedRoot();
  const artifact = { bytes: readFileSync(join(CONFORMANCE, 'a.txt')) };
  const rows = [
    await measure(
      'keyless happy-path-v0.3',
      read('happy-path-v0.3', 'bundle.sigstore.json'),
      artifact,
      {
        trustedRoot,
        identity: { identity: BEACON, issuer: GITHUB_ISSUER },
      },
      seconds,
    ),
    await measure(
      'key managed-key-happy-path',
      read('managed-key-happy-path', 'bundle.sigstore.json'),
      artifact,
      {
        trustedRoot,
        key: parseVerificationKey(read('managed-key-happy-path', 'key.pub').toString('utf8'), 'key.pub'),
      },
      seconds,
    ),
  ];
  if (!o.quiet) {
    console.log(
      `${'bundle (public-good root, warm)'.padEnd(34)}${'verify/s'.padStart(10)}${'median'.padStart(10)}`,
    );
    for (const r of rows) {
      console.log(
        `${r.bundle.padEnd(34)}${r.perSecond.toFixed(0).padStart(10)}${`${r.medianMs.toFixed(2)} ms`.padStart(10)}`,
      );
    }
  }
  return rows;
}

if (import.meta.main) await runSigstoreBench();
