/**
 * Releases made the way vouch's pipeline publishes them, with vouch's own signing library: a
 * signed image (or index and platform images), SLSA provenance from a GitHub Actions run, a
 * CycloneDX SBOM and a scan attestation, each signed with a node:crypto key or keylessly.
 */

import { COSIGN_VULN_PREDICATE, CYCLONEDX_PREDICATE, SPDX_PREDICATE } from '../../src/attest/predicates.ts';
import { slsaProvenanceV1 } from '../../src/attest/provenance/build.ts';
import { githubProvenanceInput } from '../../src/attest/provenance/ci.ts';
import type { Digest } from '../../src/digest/digest.ts';
import type { Descriptor } from '../../src/oci/types.ts';
import { attestImage, type ImageSigningOptions, type Storage, signImage } from '../../src/sign/image/sign.ts';
import type { AttachmentStore } from '../../src/sign/image/store.ts';

export const SLSA_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_V02 = 'https://slsa.dev/provenance/v0.2';
export const COMMIT = '5a1d0b0c3e0e3f3c2a8f1f8e6b0b2c9f0d1e2a3b';

/** The provenance a vouch build on GitHub Actions records for `repo` (owner/name) at `tag`. */
export function githubProvenance(
  repo = 'o/app',
  tag = 'v1.0.0',
  workflow = '.github/workflows/vouch-build.yml',
) {
  return slsaProvenanceV1(
    githubProvenanceInput(
      {
        kind: 'github',
        serverUrl: 'https://github.com',
        repository: repo,
        ref: `refs/tags/${tag}`,
        sha: COMMIT,
        workflowRef: `${repo}/${workflow}@refs/tags/${tag}`,
        runId: '4242',
        runAttempt: '1',
        eventName: 'push',
        repositoryId: '123456789',
        repositoryOwnerId: '987654',
        runnerEnvironment: 'github-hosted',
      },
      { jobWorkflowRef: `${repo}/${workflow}@refs/tags/${tag}` },
    ),
  );
}

/** slsa-github-generator's container provenance (v0.2) for `repo` at `tag`. */
export function generatorProvenanceV02(repo = 'o/app', tag = 'v1.0.0') {
  return {
    builder: {
      id: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0',
    },
    buildType: 'https://github.com/slsa-framework/slsa-github-generator/container@v1',
    invocation: {
      configSource: {
        uri: `git+https://github.com/${repo}@refs/tags/${tag}`,
        digest: { sha1: COMMIT },
        entryPoint: '.github/workflows/release.yml',
      },
      environment: { github_ref: `refs/tags/${tag}`, github_ref_type: 'tag', github_event_name: 'push' },
    },
    materials: [{ uri: `git+https://github.com/${repo}@refs/tags/${tag}`, digest: { sha1: COMMIT } }],
  };
}

export function cyclonedx(components = 2) {
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    components: Array.from({ length: components }, (_, i) => ({
      type: 'library',
      name: `pkg${i}`,
      version: `1.${i}.0`,
      purl: `pkg:deb/debian/pkg${i}@1.${i}.0`,
    })),
  };
}

export function spdx(packages = 1) {
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: 'app',
    packages: Array.from({ length: packages }, (_, i) => ({ SPDXID: `SPDXRef-p${i}`, name: `p${i}` })),
  };
}

export function vulnScan() {
  return {
    invocation: { parameters: null, uri: '', event_id: '', 'builder.id': '' },
    scanner: {
      uri: 'pkg:generic/vouch@0.1.0',
      version: '0.1.0',
      db: { uri: '', version: '' },
      result: { SchemaVersion: 2, Results: [] },
    },
    metadata: { scanStartedOn: '2025-03-04T10:16:00Z', scanFinishedOn: '2025-03-04T10:16:05Z' },
  };
}

export interface PublishOptions {
  signing: ImageSigningOptions;
  /** Where signatures and attestations go (default tag). */
  storage?: Storage;
  sign?: boolean;
  provenance?: { predicateType: string; predicate: unknown } | false;
  sbom?: 'cyclonedx' | 'spdx' | 'both' | false;
  vuln?: boolean;
}

/** Sign and attest one image (or the index itself: `sbom: false, provenance: false`). */
export async function publish(
  store: AttachmentStore,
  image: Descriptor,
  repository: string,
  o: PublishOptions,
): Promise<void> {
  const base = { ...o.signing, storage: o.storage ?? 'tag' };
  if (o.sign !== false) await signImage(store, image, repository, base);
  const provenance = o.provenance ?? { predicateType: SLSA_V1, predicate: githubProvenance() };
  if (provenance) await attestImage(store, image, repository, { ...base, ...provenance });
  const sbom = o.sbom ?? 'cyclonedx';
  if (sbom === 'cyclonedx' || sbom === 'both') {
    await attestImage(store, image, repository, {
      ...base,
      predicateType: CYCLONEDX_PREDICATE,
      predicate: cyclonedx(),
    });
  }
  if (sbom === 'spdx' || sbom === 'both') {
    await attestImage(store, image, repository, {
      ...base,
      predicateType: SPDX_PREDICATE,
      predicate: spdx(),
    });
  }
  if (o.vuln) {
    await attestImage(store, image, repository, {
      ...base,
      predicateType: COSIGN_VULN_PREDICATE,
      predicate: vulnScan(),
    });
  }
}

/** A descriptor for a digest found in an index (what signImage needs). */
export function described(d: Descriptor): Descriptor {
  const { platform: _p, ...rest } = d;
  return rest;
}

export type { Digest };
