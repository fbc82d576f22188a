/**
 * Test support: the Sigstore conformance suite's bundle-verify cases in ../shared/data (CI has
 * that folder beside the clone), driven the way the suite's harness drives a client (see the
 * README there): `bundle.sigstore.json`; `artifact`, else ../a.txt; `identity` / `issuer`
 * files, else the suite's beacon workflow on GitHub Actions; `key.pub` means key verification;
 * `trusted_root.json`, else the public-good root.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseVerificationKey } from '../../../src/sign/keys/load.ts';
import { loadTrustedRoot, publicGoodTrustedRoot } from '../../../src/sigstore/trust-root.ts';
import type { VerifiedBundle } from '../../../src/sigstore/types.ts';
import { verifyBundle } from '../../../src/sigstore/verify.ts';
import type { BundleJson } from './json.ts';

export const CONFORMANCE = resolve(
  import.meta.dirname,
  '../../../../shared/data/sigstore-conformance/bundle-verify',
);
export const BEACON =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

export const conformancePresent = existsSync(CONFORMANCE);

/** Case directories, sorted (empty when the data is absent). */
export function conformanceCases(): string[] {
  if (!conformancePresent) return [];
  return readdirSync(CONFORMANCE)
    .filter((d) => statSync(join(CONFORMANCE, d)).isDirectory())
    .sort();
}

export function expectedIdentity(name: string): string {
  const f = join(CONFORMANCE, name, 'identity');
  return existsSync(f) ? readFileSync(f, 'utf8').trim() : BEACON;
}

/** Verify one case as the suite's harness would. */
export async function runCase(name: string): Promise<VerifiedBundle> {
  const dir = join(CONFORMANCE, name);
  const file = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f)) : undefined);
  const trustedRoot = file('trusted_root.json')
    ? await loadTrustedRoot(join(dir, 'trusted_root.json'))
    : await publicGoodTrustedRoot();
  const artifact = file('artifact') ?? readFileSync(join(CONFORMANCE, 'a.txt'));
  const keyPem = file('key.pub');
  const bundle = file('bundle.sigstore.json');
  assert.ok(bundle, `${name} has no bundle.sigstore.json`);
  return verifyBundle(
    bundle,
    { bytes: artifact },
    keyPem
      ? { trustedRoot, key: parseVerificationKey(keyPem.toString('utf8'), `${name}/key.pub`) }
      : {
          trustedRoot,
          identity: {
            identity: expectedIdentity(name),
            issuer: file('issuer')?.toString('utf8').trim() ?? GITHUB_ISSUER,
          },
        },
  );
}

/** A case's bundle as JSON (to edit) and its artifact. */
export function conformanceBundle(name: string): { bundle: BundleJson; artifact: Buffer } {
  const bundle = JSON.parse(
    readFileSync(join(CONFORMANCE, name, 'bundle.sigstore.json'), 'utf8'),
  ) as BundleJson;
  const own = join(CONFORMANCE, name, 'artifact');
  return { bundle, artifact: readFileSync(existsSync(own) ? own : join(CONFORMANCE, 'a.txt')) };
}
