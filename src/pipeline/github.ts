// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are shell scripts, ${X} is shell
/**
 * `vouch init github`: GitHub Actions workflows for a vouch.yaml project.
 *
 *  - vouch-build.yml: on a `v*` tag (or by hand), run the pipeline and sign keylessly with the
 *    workflow's OIDC identity, then verify what was published as a consumer would;
 *  - vouch-rebuild.yml: weekly, start vouch-build.yml again on the latest release tag (the same
 *    workflow at the same ref, so the signer identity consumers trust stays the same);
 *  - vouch-rescan.yml: daily, verify the latest release, take its signed SBOMs, scan them against
 *    today's advisories and open (or update) one issue when a fixable HIGH/CRITICAL appears.
 *
 * Hardening: `permissions: {}` at the top and the least each job needs; actions pinned by full
 * commit SHA; no `${{ }}` expression inside any `run:` script (values reach scripts through `env:`
 * only, so nothing an attacker controls is pasted into shell code); credentials not persisted.
 */
import { lstat, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import pkgJson from '../../package.json' with { type: 'json' };
import { VouchError } from '../errors.ts';
import { parseReference } from '../oci/reference.ts';
import { writeFileAtomic } from '../util/atomic.ts';

export interface PinnedAction {
  /** owner/repo */
  action: string;
  /** Full 40-hex commit the tag pointed at when pinned. */
  sha: string;
  version: string;
}

/**
 * Pins found in public workflows (code search over GitHub snapshots, 2026) with these tags as
 * comments, e.g. `actions/checkout@de0fac2e… # v6.0.2`, `actions/setup-node@6044e13b… # v6.2.0`,
 * `actions/attest-build-provenance@e8998f94… # v2.4.0`. Re-check before bumping with
 * `git ls-remote https://github.com/<action> refs/tags/<version>`.
 */
export const PINNED_ACTIONS = {
  checkout: {
    action: 'actions/checkout',
    sha: 'de0fac2e4500dabe0009e67214ff5f5447ce83dd',
    version: 'v6.0.2',
  },
  setupNode: {
    action: 'actions/setup-node',
    sha: '6044e13b5dc448c55e2357c09f80417699197238',
    version: 'v6.2.0',
  },
  attestBuildProvenance: {
    action: 'actions/attest-build-provenance',
    sha: 'e8998f949152b193b063cb0ec769d69d929409be',
    version: 'v2.4.0',
  },
} as const satisfies Record<string, PinnedAction>;

export const WORKFLOW_FILES = {
  build: '.github/workflows/vouch-build.yml',
  rebuild: '.github/workflows/vouch-rebuild.yml',
  rescan: '.github/workflows/vouch-rescan.yml',
} as const;

export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

/** Ecosystems the re-scan downloads from OSV when none are given. */
export const DEFAULT_ECOSYSTEMS = [
  'Debian',
  'Ubuntu',
  'Alpine',
  'Go',
  'npm',
  'PyPI',
  'Maven',
  'crates.io',
] as const;

export interface GithubWorkflowOptions {
  /** registry/repository, without tag (vouch.yaml image.name). */
  image: string;
  /** vouch.yaml image.architectures: tags are `{version}-{arch}`. */
  architectures: readonly string[];
  /** vouch.yaml, relative to the repository root. */
  config?: string;
  /** What `npm install --global` installs (default this vouch's version). */
  vouchPackage?: string;
  /** OSV ecosystems for the re-scan database. */
  ecosystems?: readonly string[];
  /** Also record provenance in GitHub's attestation store (gh attestation verify). */
  githubAttestations?: boolean;
  /** Node.js major version to run vouch on. */
  nodeVersion?: string;
}

interface Resolved {
  image: string;
  registry: string;
  ghcr: boolean;
  architectures: readonly string[];
  config: string;
  vouchPackage: string;
  ecosystems: readonly string[];
  githubAttestations: boolean;
  nodeVersion: string;
}

const usage = (message: string) => new VouchError('USAGE', message, { hint: 'see vouch init --help' });

/** Values written into YAML and then read by shell scripts: a conservative alphabet, checked. */
function safe(value: string, what: string, pattern: RegExp): string {
  if (!pattern.test(value))
    throw usage(`${what} ${JSON.stringify(value)} has characters a workflow cannot carry safely`);
  return value;
}

function resolveOptions(o: GithubWorkflowOptions): Resolved {
  const image = safe(o.image, 'image name', /^[a-z0-9][a-z0-9._:/-]*$/);
  let registry: string;
  try {
    const ref = parseReference(image);
    if (ref.tag !== undefined && image.endsWith(`:${ref.tag}`))
      throw usage(`image name ${image} must not carry a tag`);
    registry = ref.registry;
  } catch (e) {
    if (e instanceof VouchError && e.code === 'USAGE') throw e;
    throw usage(`image name ${image}: ${(e as Error).message}`);
  }
  if (o.architectures.length === 0) throw usage('at least one architecture is needed');
  const architectures = o.architectures.map((a) => safe(a, 'architecture', /^[a-z0-9]+$/));
  const ecosystems = (o.ecosystems ?? DEFAULT_ECOSYSTEMS).map((e) =>
    safe(e, 'ecosystem', /^[A-Za-z0-9][A-Za-z0-9.:_-]*$/),
  );
  return {
    image,
    registry,
    ghcr: registry === 'ghcr.io',
    architectures,
    config: safe(o.config ?? 'vouch.yaml', 'config path', /^[A-Za-z0-9._/-]+$/),
    vouchPackage: safe(
      o.vouchPackage ?? `vouch@${pkgJson.version}`,
      'vouch package',
      /^[A-Za-z0-9@/._:#+=~^-]+$/,
    ),
    ecosystems,
    githubAttestations: o.githubAttestations ?? false,
    nodeVersion: safe(o.nodeVersion ?? '24', 'node version', /^[0-9]+(\.[0-9]+){0,2}$/),
  };
}

/** `${{ expr }}` (kept out of template literals, where `${` would interpolate). */
const expr = (e: string): string => `\${{ ${e} }}`;
const q = (s: string): string => JSON.stringify(s);
const uses = (a: PinnedAction): string => `${a.action}@${a.sha} # ${a.version}`;

/** Indent a multi-line script as a `run: |` block at `spaces`. */
function block(lines: readonly string[], spaces: number): string {
  const pad = ' '.repeat(spaces);
  return lines.map((l) => (l === '' ? '' : pad + l)).join('\n');
}

function header(what: string, r: Resolved): string {
  return [
    `# Generated by \`vouch init github\` (vouch ${pkgJson.version}). ${what}`,
    `# Image: ${r.image} (${r.architectures.map((a) => `{version}-${a}`).join(', ')}); config: ${r.config}.`,
    '# Every action is pinned by full commit SHA (the comment says the tag it had); permissions are',
    '# empty at the top and granted per job; scripts get values only through env:.',
  ].join('\n');
}

function setupSteps(r: Resolved): string {
  return `      - name: Set up Node.js
        uses: ${uses(PINNED_ACTIONS.setupNode)}
        with:
          node-version: ${q(r.nodeVersion)}
      - name: Install vouch
        env:
          VOUCH_PACKAGE: ${q(r.vouchPackage)}
        run: npm install --global --ignore-scripts "$VOUCH_PACKAGE"`;
}

/** docker login, so every vouch command finds the credentials in ~/.docker/config.json. */
function loginStep(r: Resolved): string {
  const user = r.ghcr ? expr('github.actor') : expr('secrets.REGISTRY_USERNAME');
  const password = r.ghcr ? expr('github.token') : expr('secrets.REGISTRY_PASSWORD');
  return `      - name: Log in to ${r.registry}
        env:
          REGISTRY: ${q(r.registry)}
          REGISTRY_USERNAME: ${user}
          REGISTRY_PASSWORD: ${password}
        run: printf '%s' "$REGISTRY_PASSWORD" | docker login "$REGISTRY" --username "$REGISTRY_USERNAME" --password-stdin`;
}

/** The consumer's check of what the run published, by the identity this workflow signs with. */
const VERIFY_SCRIPT = [
  'set -euo pipefail',
  'version="${GITHUB_REF_NAME#v}"',
  '# shellcheck disable=SC2086 # ARCHITECTURES is a space-separated list',
  'for arch in $ARCHITECTURES; do',
  '  out="$RUNNER_TEMP/release-$arch.json"',
  '  vouch verify-release "$IMAGE:$version-$arch" \\',
  '    --certificate-identity "$GITHUB_SERVER_URL/$GITHUB_WORKFLOW_REF" \\',
  '    --certificate-oidc-issuer "$OIDC_ISSUER" \\',
  '    --source-uri "${GITHUB_SERVER_URL#https://}/$GITHUB_REPOSITORY" \\',
  '    --source-tag "$GITHUB_REF_NAME" \\',
  '    --output json | tee "$out"',
  '  echo "digest_$arch=$(jq -r .digest "$out")" >> "$GITHUB_OUTPUT"',
  'done',
];

export function buildWorkflow(o: GithubWorkflowOptions): string {
  const r = resolveOptions(o);
  const permissions = [
    '      contents: read # check out the repository',
    '      id-token: write # the OIDC token Fulcio certifies: keyless signing',
    ...(r.ghcr ? ['      packages: write # push the image, signatures and attestations to ghcr.io'] : []),
    ...(r.githubAttestations ? ['      attestations: write # record provenance in GitHub attestations'] : []),
  ];
  const attest = r.githubAttestations
    ? r.architectures.map(
        (a) => `      - name: Record the ${a} provenance in GitHub attestations
        uses: ${uses(PINNED_ACTIONS.attestBuildProvenance)}
        with:
          subject-name: ${q(r.image)}
          subject-digest: ${expr(`steps.verify.outputs.digest_${a}`)}
          push-to-registry: false`,
      )
    : [];
  return `${header('Builds, tests, scans, signs and publishes the image on every v* tag.', r)}
# Consumers verify a release with:
#   vouch verify-release ${r.image}:VERSION-ARCH \\
#     --certificate-identity https://github.com/OWNER/REPO/${WORKFLOW_FILES.build}@refs/tags/vVERSION \\
#     --certificate-oidc-issuer ${GITHUB_OIDC_ISSUER} \\
#     --source-uri github.com/OWNER/REPO --source-tag vVERSION
${r.ghcr ? '' : '# Registry credentials: repository secrets REGISTRY_USERNAME and REGISTRY_PASSWORD.\n'}name: vouch build

on:
  push:
    tags: ['v*']
  workflow_dispatch:

permissions: {}

concurrency:
  group: vouch-build-${expr('github.ref')}
  cancel-in-progress: false

jobs:
  build:
    name: Build, sign and publish
    runs-on: ubuntu-24.04
    timeout-minutes: 60
    permissions:
${permissions.join('\n')}
    env:
      IMAGE: ${q(r.image)}
      ARCHITECTURES: ${q(r.architectures.join(' '))}
      VOUCH_CONFIG: ${q(r.config)}
      OIDC_ISSUER: ${q(GITHUB_OIDC_ISSUER)}
    steps:
      - name: Publish only from a release tag
        run: |
${block(
  [
    'if [ "$GITHUB_REF_TYPE" != tag ]; then',
    '  echo "::error::run this workflow on a release tag (vX.Y.Z), not on $GITHUB_REF_TYPE $GITHUB_REF_NAME"',
    '  exit 1',
    'fi',
  ],
  10,
)}
      - name: Check out
        uses: ${uses(PINNED_ACTIONS.checkout)}
        with:
          persist-credentials: false
${setupSteps(r)}
${loginStep(r)}
      - name: Build, test, scan, sign and push (keyless, signed before the tag exists)
        run: |
${block(['set -euo pipefail', '# reproducible timestamps: the commit time', 'SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)"', 'export SOURCE_DATE_EPOCH', 'vouch pipeline run -c "$VOUCH_CONFIG" --log-format json'], 10)}
      - name: Verify the published release as a consumer would
        id: verify
        run: |
${block(VERIFY_SCRIPT, 10)}
${attest.join('\n')}`.replace(/\n+$/, '\n');
}

export function rebuildWorkflow(o: GithubWorkflowOptions): string {
  const r = resolveOptions(o);
  return `${header('Rebuilds the latest release every week.', r)}
# It starts ${WORKFLOW_FILES.build} on the newest vX.Y.Z tag, so the rebuild is signed by the
# same workflow identity at the same ref as the release, and consumers' checks keep working.
name: vouch weekly rebuild

on:
  schedule:
    - cron: '17 4 * * 1' # Mondays, 04:17 UTC
  workflow_dispatch:

permissions: {}

jobs:
  rebuild:
    name: Rebuild the latest release
    runs-on: ubuntu-24.04
    timeout-minutes: 10
    permissions:
      actions: write # start ${WORKFLOW_FILES.build.split('/').pop()}
      contents: read # list the release tags
    steps:
      - name: Start the build workflow on the latest release tag
        env:
          GH_TOKEN: ${expr('github.token')}
          GH_REPO: ${expr('github.repository')}
          WORKFLOW: ${q(WORKFLOW_FILES.build.split('/').pop() ?? '')}
        run: |
${block(
  [
    'set -euo pipefail',
    'tag="$(gh api "repos/$GH_REPO/git/matching-refs/tags/v" --paginate --jq \'.[].ref\' \\',
    "  | sed 's#^refs/tags/##' | grep -E '^v[0-9]+\\.[0-9]+\\.[0-9]+$' | sort -V | tail -n 1 || true)\"",
    'if [ -z "$tag" ]; then',
    '  echo "no vX.Y.Z release tag yet: nothing to rebuild"',
    '  exit 0',
    'fi',
    'echo "rebuilding $tag"',
    'gh workflow run "$WORKFLOW" --ref "$tag"',
  ],
  10,
)}
`;
}

/** Scan each SBOM; collect fixable HIGH/CRITICAL findings as Markdown rows; exit code 4 = found. */
const SCAN_SCRIPT = [
  'set -euo pipefail',
  'rows="$RUNNER_TEMP/rows.md"',
  ': > "$rows"',
  'found=false',
  'shopt -s nullglob',
  'sboms=("$RUNNER_TEMP"/sboms/*/*.json)',
  'if [ "${#sboms[@]}" -eq 0 ]; then echo "::error::verify-release wrote no SBOM"; exit 1; fi',
  'for sbom in "${sboms[@]}"; do',
  '  arch="$(basename "$(dirname "$sbom")")"',
  '  report="$RUNNER_TEMP/scan-$arch-$(basename "$sbom")"',
  '  status=0',
  '  vouch scan "$sbom" --db "$VOUCH_DB" --severity HIGH,CRITICAL --ignore-unfixed \\',
  '    --exit-code 4 --format json --output "$report" || status=$?',
  '  if [ "$status" -eq 4 ]; then',
  '    found=true',
  '    jq -r --arg arch "$arch" \'.Results[]? | .Vulnerabilities[]? |',
  '      "| \\(.VulnerabilityID) | \\(.Severity) | \\(.PkgName) | \\(.InstalledVersion) | \\(.FixedVersion // "") | \\($arch) | \\(.PrimaryURL // "") |"\' \\',
  '      "$report" >> "$rows"',
  '  elif [ "$status" -ne 0 ]; then',
  '    echo "vouch scan failed on $sbom (exit $status)"',
  '    exit "$status"',
  '  fi',
  'done',
  'echo "found=$found" >> "$GITHUB_OUTPUT"',
  'if [ "$found" = true ]; then',
  '  sort -u "$rows" > "$RUNNER_TEMP/findings.md"',
  '  total="$(wc -l < "$RUNNER_TEMP/findings.md")"',
  '  delimiter="vouch-$(openssl rand -hex 16)"',
  '  {',
  '    echo "body<<$delimiter"',
  '    echo "The daily re-scan found fixable HIGH or CRITICAL vulnerabilities in $IMAGE $TAG ($total findings)."',
  '    echo "Rebuilding on an updated base image, or updating the packages, fixes them."',
  '    echo',
  '    echo "| Vulnerability | Severity | Package | Installed | Fixed in | Arch | Link |"',
  '    echo "|---|---|---|---|---|---|---|"',
  '    head -n 200 "$RUNNER_TEMP/findings.md"',
  '    if [ "$total" -gt 200 ]; then echo; echo "... and $((total - 200)) more (see the workflow run)."; fi',
  '    echo',
  '    echo "Found by $GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"',
  '    echo "$delimiter"',
  '  } >> "$GITHUB_OUTPUT"',
  'fi',
];

export function rescanWorkflow(o: GithubWorkflowOptions): string {
  const r = resolveOptions(o);
  const rescanPermissions = [
    '      contents: read # list the release tags',
    ...(r.ghcr ? ['      packages: read # read the image, signatures and attestations from ghcr.io'] : []),
  ];
  return `${header('Re-scans the latest release against new advisories every day.', r)}
# It verifies the release (signature, provenance, SBOM attestations) exactly as a consumer would,
# scans the signed SBOMs with today's OSV data and, when a fixable HIGH or CRITICAL vulnerability
# appears, opens an issue with the details (or updates the open one: never two for one release).
${r.ghcr ? '' : '# Registry credentials: repository secrets REGISTRY_USERNAME and REGISTRY_PASSWORD.\n'}name: vouch daily re-scan

on:
  schedule:
    - cron: '23 5 * * *' # every day, 05:23 UTC
  workflow_dispatch:

permissions: {}

jobs:
  rescan:
    name: Verify and re-scan the latest release
    runs-on: ubuntu-24.04
    timeout-minutes: 60
    permissions:
${rescanPermissions.join('\n')}
    outputs:
      found: ${expr('steps.scan.outputs.found')}
      tag: ${expr('steps.tag.outputs.tag')}
      body: ${expr('steps.scan.outputs.body')}
    env:
      IMAGE: ${q(r.image)}
      ARCHITECTURES: ${q(r.architectures.join(' '))}
      ECOSYSTEMS: ${q(r.ecosystems.join(' '))}
      OIDC_ISSUER: ${q(GITHUB_OIDC_ISSUER)}
    steps:
${setupSteps(r)}
${loginStep(r)}
      - name: Find the latest release tag
        id: tag
        env:
          GH_TOKEN: ${expr('github.token')}
          GH_REPO: ${expr('github.repository')}
        run: |
${block(
  [
    'set -euo pipefail',
    'tag="$(gh api "repos/$GH_REPO/git/matching-refs/tags/v" --paginate --jq \'.[].ref\' \\',
    "  | sed 's#^refs/tags/##' | grep -E '^v[0-9]+\\.[0-9]+\\.[0-9]+$' | sort -V | tail -n 1 || true)\"",
    'if [ -z "$tag" ]; then echo "no vX.Y.Z release tag yet"; fi',
    'echo "tag=$tag" >> "$GITHUB_OUTPUT"',
  ],
  10,
)}
      - name: Verify the release and take its signed SBOMs
        if: steps.tag.outputs.tag != ''
        env:
          TAG: ${expr('steps.tag.outputs.tag')}
        run: |
${block(
  [
    'set -euo pipefail',
    '# shellcheck disable=SC2086 # ARCHITECTURES is a space-separated list',
    'for arch in $ARCHITECTURES; do',
    '  vouch verify-release "$IMAGE:${TAG#v}-$arch" \\',
    '    --certificate-identity "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/.github/workflows/vouch-build.yml@refs/tags/$TAG" \\',
    '    --certificate-oidc-issuer "$OIDC_ISSUER" \\',
    '    --source-uri "${GITHUB_SERVER_URL#https://}/$GITHUB_REPOSITORY" \\',
    '    --source-tag "$TAG" \\',
    '    --sbom-output "$RUNNER_TEMP/sboms/$arch"',
    'done',
  ],
  10,
)}
      - name: Download today's advisories
        if: steps.tag.outputs.tag != ''
        run: |
${block(
  [
    'set -euo pipefail',
    'echo "VOUCH_DB=$RUNNER_TEMP/osv.db" >> "$GITHUB_ENV"',
    'args=()',
    '# shellcheck disable=SC2086 # ECOSYSTEMS is a space-separated list',
    'for e in $ECOSYSTEMS; do args+=(--ecosystem "$e"); done',
    'vouch db update --db "$RUNNER_TEMP/osv.db" "${args[@]}"',
  ],
  10,
)}
      - name: Scan the SBOMs for fixable HIGH and CRITICAL vulnerabilities
        id: scan
        if: steps.tag.outputs.tag != ''
        env:
          TAG: ${expr('steps.tag.outputs.tag')}
        run: |
${block(SCAN_SCRIPT, 10)}

  report:
    name: Open or update the vulnerability issue
    needs: rescan
    if: needs.rescan.outputs.found == 'true'
    runs-on: ubuntu-24.04
    timeout-minutes: 10
    permissions:
      issues: write # open or update the issue
    steps:
      - name: Open the issue, or update the open one with the same title
        env:
          GH_TOKEN: ${expr('github.token')}
          GH_REPO: ${expr('github.repository')}
          IMAGE: ${q(r.image)}
          TAG: ${expr('needs.rescan.outputs.tag')}
          BODY: ${expr('needs.rescan.outputs.body')}
        run: |
${block(
  [
    'set -euo pipefail',
    'title="vouch: fixable HIGH/CRITICAL vulnerabilities in $IMAGE $TAG"',
    'existing="$(gh issue list --state open --search "\\"$title\\" in:title" --limit 100 --json number,title \\',
    '  | jq -r --arg t "$title" \'[.[] | select(.title == $t)][0].number // empty\')"',
    'if [ -n "$existing" ]; then',
    '  printf \'%s\\n\' "$BODY" | gh issue edit "$existing" --body-file -',
    '  echo "updated issue #$existing"',
    'else',
    '  printf \'%s\\n\' "$BODY" | gh issue create --title "$title" --body-file -',
    'fi',
  ],
  10,
)}
`;
}

export interface GeneratedFile {
  /** Relative to the repository root. */
  path: string;
  content: string;
}

export function githubWorkflows(o: GithubWorkflowOptions): GeneratedFile[] {
  return [
    { path: WORKFLOW_FILES.build, content: buildWorkflow(o) },
    { path: WORKFLOW_FILES.rebuild, content: rebuildWorkflow(o) },
    { path: WORKFLOW_FILES.rescan, content: rescanWorkflow(o) },
  ];
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new VouchError('IO_ERROR', `cannot check ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

/**
 * Write `files` under `dir`, each atomically. Without `force`, nothing is written when any of
 * them exists already (USAGE naming them). Returns the absolute paths written.
 */
export async function writeNewFiles(
  dir: string,
  files: readonly GeneratedFile[],
  o: { force?: boolean } = {},
): Promise<string[]> {
  const paths = files.map((f) => resolve(dir, f.path));
  if (!o.force) {
    const taken: string[] = [];
    for (const p of paths) if (await exists(p)) taken.push(p);
    if (taken.length > 0) {
      throw new VouchError(
        'USAGE',
        `${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''}; refusing to overwrite`,
        {
          hint: 'pass --force to replace them',
        },
      );
    }
  }
  for (const [i, f] of files.entries()) {
    const p = paths[i]!;
    await mkdir(dirname(p), { recursive: true });
    await writeFileAtomic(p, f.content);
  }
  return paths;
}

/** Write the three workflows under `dir` (the repository root). */
export function writeGithubWorkflows(
  dir: string,
  o: GithubWorkflowOptions,
  w: { force?: boolean } = {},
): Promise<string[]> {
  return writeNewFiles(dir, githubWorkflows(o), w);
}
