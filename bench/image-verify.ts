/**
 * Key-based image verifications per second (`BENCH_ONLY=image-verify npm run bench`, or
 * `node bench/image-verify.ts`) against a local docker-registry 2.8 (no referrers API, so the
 * referrers lookup is the tag-schema fallback, as on many registries):
 *
 *  - tag: one cosign `.sig` layer (legacy scheme)
 *  - referrers: one Sigstore bundle referrer (cosign v3 scheme), verified by verifyBundle
 *  - both: one of each (what `vouch verify` meets after a cosign v2 → v3 migration)
 *
 * Each case resolves the tag to a digest and verifies every signature, over one shared HTTP
 * client (what a long-running admission checker does), for BENCH_SECONDS (default 3) after a
 * warm-up; sequential and with 8 in flight.
 */
import { generateKeyPairSync } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Reference } from '../src/oci/reference.ts';
import { RegistryClient } from '../src/registry/client.ts';
import { RegistryStore } from '../src/sign/image/registry-store.ts';
import { signImage } from '../src/sign/image/sign.ts';
import { signingKeyFromKeyObject } from '../src/sign/keys/signing-key.ts';
import { publicGoodTrustedRoot } from '../src/sigstore/trust-root.ts';
import { verifyImageSignatures } from '../src/verify/image.ts';
import { startRegistry } from '../test/helpers/registry.ts';
import { pushImage } from '../test/sign/helpers.ts';

const CASES = [
  ['tag', ['tag']],
  ['referrers', ['referrers']],
  ['both', ['tag', 'referrers']],
] as const;

export async function runImageVerifyBench(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 3);
  const key = signingKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  const trustedRoot = await publicGoodTrustedRoot();
  const reg = await startRegistry();
  const client = new RegistryClient();
  try {
    console.log(
      `node ${process.version}, load ${loadavg()[0]!.toFixed(2)}, ${seconds} s per case, key ECDSA P-256`,
    );
    console.log(
      `${'storage'.padEnd(12)}${'signatures'.padStart(11)}${'serial/s'.padStart(11)}${'8 in flight/s'.padStart(15)}`,
    );
    for (const [label, storages] of CASES) {
      const repo: Reference = { registry: reg.host, repository: `bench/${label}` };
      const { descriptor } = await pushImage({ ...repo, tag: 'v1' });
      const store = new RegistryStore(repo, { client });
      for (const storage of storages) {
        await signImage(store, descriptor, `${reg.host}/${repo.repository}`, {
          identity: { kind: 'key', key },
          storage,
        });
      }
      const once = async () => {
        const { descriptor: d } = await store.resolve({ tag: 'v1' });
        const r = await verifyImageSignatures(store, d.digest, repo.repository, {
          trust: { kind: 'key', key, trustedRoot },
        });
        if (r.verified.length !== storages.length) throw new Error(`${label}: ${r.verified.length} verified`);
      };
      const rate = async (parallel: number): Promise<number> => {
        for (let i = 0; i < 20; i++) await once(); // warm-up: connections, JIT, trust material
        let n = 0;
        const start = performance.now();
        const end = start + seconds * 1000;
        await Promise.all(
          Array.from({ length: parallel }, async () => {
            while (performance.now() < end) {
              await once();
              n++;
            }
          }),
        );
        return n / ((performance.now() - start) / 1000);
      };
      const serial = await rate(1);
      const parallel = await rate(8);
      console.log(
        `${label.padEnd(12)}${String(storages.length).padStart(11)}${serial.toFixed(0).padStart(11)}${parallel.toFixed(0).padStart(15)}`,
      );
    }
  } finally {
    await client.close();
    await reg.stop();
  }
}

if (import.meta.main) await runImageVerifyBench();
