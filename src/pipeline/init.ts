/** `vouch init`: a commented vouch.yaml to start from (it validates as written). */

export interface InitOptions {
  name?: string;
  version?: string;
  /** A base pinned by digest, or scratch. */
  base?: string;
}

export function starterConfig(o: InitOptions = {}): string {
  const name = o.name ?? '127.0.0.1:5000/example/app';
  const version = o.version ?? '0.1.0';
  const base = o.base ?? 'scratch';
  return `# vouch.yaml: what \`vouch pipeline run\` builds, checks, signs and publishes.
# Every relative path is relative to this file. Schema: vouch.dev/v1 Pipeline.
apiVersion: vouch.dev/v1
kind: Pipeline

image:
  # registry/repository, without a tag: tags are {version}-{arch}, never latest
  name: ${name}
  version: ${version}
  architectures: [amd64]

base:
  # scratch, or an image pinned by digest: NAME@sha256:... (find it: vouch inspect NAME:TAG)
  image: ${base}

# Directories added on top of the base, one layer each (timestamps stripped, entries sorted).
layers:
  - source: ./app
    target: /app
    owner: "65532:65532"
    # mode: "0755"

# The image config (OCI names in lower camel case).
config:
  user: "65532:65532"
  env:
    PATH: /app:/usr/bin:/bin
  entrypoint: [/app/start]
  # cmd: []
  workdir: /app
  # ports: ["8080/tcp"]
  # volumes: [/data]
  # stopSignal: SIGTERM
  labels:
    org.opencontainers.image.title: app

# Removed from the image before it ships (package databases are kept for scanners).
harden:
  removePackageManagers: true
  removeDocs: true
  removeCaches: true

# Static checks beyond the built-in ones (non-root, no package managers, no secrets, libraries).
tests:
  files:
    - path: /app/start
      mode: "0755"

# The CVE gate: fail on fixable findings of these severities.
gate:
  severities: [HIGH, CRITICAL]
  ignoreUnfixed: true
  # ignoreFile: .trivyignore.yaml   # exceptions need a statement and an expiry date
  # db: .vouch/osv.db

# Key-based (cosign-compatible) or keyless (Sigstore) signing.
signing:
  key: cosign.key          # make one with: vouch key generate
  # keyless: { fulcioUrl: https://fulcio.sigstore.dev, rekorUrl: https://rekor.sigstore.dev }
  storage: tag             # tag (sha256-<hex>.sig, read by cosign 2 and skopeo) or referrers (OCI 1.1)

# Where SBOMs, scan reports and attestations go, by architecture.
store:
  directory: ./vouch-artifacts
  # s3: { endpoint: http://127.0.0.1:9000, bucket: releases, prefix: app/ }

# Where push publishes: the registry of image.name, or an OCI layout standing in for it.
# target: oci:./release

# Stages to run, in this order.
stages: [build, harden, flatten, test, sbom, scan, provenance, sign, push]
`;
}
