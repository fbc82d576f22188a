/**
 * `vouch verify-release`: a consumer's checks of a released image in one command (signature and
 * signer, SLSA provenance source and builder, SBOM attestation, optionally a scan attestation),
 * for a single image or an index and each of its platform images. Prints every check; exit 0
 * when all pass, 1 when any fails.
 */
import { resolve } from 'node:path';
import { VouchError } from '../../errors.ts';
import { failures, renderText, toJson } from '../../release/render.ts';
import type { ProvenanceRequirement } from '../../release/types.ts';
import { verifyRelease } from '../../release/verify-release.ts';
import { openImageTarget } from '../../sign/image/target.ts';
import { ExitCode, println } from '../io.ts';
import type { Command, OptionSpec } from '../main.ts';
import { needPositionals, openOptions, registryOptions } from './common.ts';
import { SOURCE_FLAGS, sourceOptions, sourceRequirements } from './source-options.ts';
import { checkTrustFlags, TRUST_HELP, trustFrom, trustOptions } from './trust-options.ts';
import { outputOf } from './verify.ts';

const options = {
  ...sourceOptions,
  'skip-provenance': { type: 'boolean', description: 'do not require SLSA provenance (not recommended)' },
  'require-vuln-attestation': {
    type: 'boolean',
    description: 'also require a signed vulnerability scan attestation (cosign vuln predicate)',
  },
  'sbom-output': {
    type: 'string',
    description: 'write each platform’s verified SBOM to this directory (only when everything passed)',
  },
  ...trustOptions,
  ...registryOptions,
} as const satisfies Record<string, OptionSpec>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const usage = (m: string) => new VouchError('USAGE', m, { hint: 'see vouch verify-release --help' });

/** The provenance flags as a requirement; every mistake a USAGE error before any I/O. */
export function provenanceRequirement(values: Record<string, unknown>): ProvenanceRequirement {
  if (values['skip-provenance'] === true) {
    const given = SOURCE_FLAGS.find((f) => values[f] !== undefined);
    if (given) throw usage(`--${given} checks provenance; it cannot be combined with --skip-provenance`);
    return { kind: 'skip' };
  }
  const missing = '--source-uri is required (e.g. --source-uri github.com/o/r), or pass --skip-provenance';
  return { kind: 'check', ...sourceRequirements(values, 'verify-release', missing) };
}

export const verifyReleaseCommand: Command = {
  name: 'verify-release',
  summary: 'Verify a released image as a consumer: signature, provenance source and builder, SBOM',
  usage:
    'verify-release IMAGE (--key PUB | --certificate-identity[-regexp] I --certificate-oidc-issuer[-regexp] O) ' +
    '(--source-uri URI [--source-tag T | --source-versioned-tag V] [--source-branch B] [--builder-id ID] | --skip-provenance) ' +
    '[--require-vuln-attestation] [--sbom-output DIR] [--trusted-root T] [--offline] [--output json]',
  help: [
    'IMAGE is a registry reference or an OCI layout (oci:DIR[:TAG]), resolved to its digest once. A',
    'single image, or an index and each platform image it lists, must have:',
    '  signature   a signature by the key or keyless identity (as vouch verify checks it); an index',
    '              is signed itself, and its images must be the platforms it declares;',
    '  provenance  SLSA provenance (v1 or v0.2) signed with the same trust and naming the image,',
    '              from --source-uri (and the tag, branch, builder given), as slsa-verifier checks it;',
    '              keyless, it must also agree with the signing certificate (workflow, repository,',
    '              commit). A platform image without its own may use the index’s;',
    '  sbom        a signed CycloneDX or SPDX SBOM attestation naming the image;',
    '  vuln        with --require-vuln-attestation, a signed scan attestation (cosign vuln).',
    'Every check runs and is listed (✓ passed, ✗ failed with its error code, - skipped). Exit 0 when',
    'all pass, 1 when any fails. --sbom-output DIR writes each platform’s SBOM (the predicate, the',
    'document itself) as sbom-<os>-<arch>[-<variant>]-<cyclonedx|spdx>.json, CycloneDX preferred,',
    'only when the whole release verified: feed them to `vouch scan` to re-check new advisories.',
    '',
    TRUST_HELP,
    '',
    'Examples:',
    '  vouch verify-release 127.0.0.1:5000/app:1.0.0 --key cosign.pub --source-uri github.com/o/app',
    '  vouch verify-release ghcr.io/o/app:1.0.0-amd64 --source-uri github.com/o/app --source-tag v1.0.0 \\',
    '    --certificate-identity https://github.com/o/app/.github/workflows/vouch-build.yml@refs/tags/v1.0.0 \\',
    '    --certificate-oidc-issuer https://token.actions.githubusercontent.com --sbom-output sboms/',
  ].join('\n'),
  options,
  async run({ values, positionals }, io) {
    const [name] = needPositionals(positionals, ['IMAGE'], this.usage);
    const output = outputOf(values.output, 'verify-release');
    checkTrustFlags(values, 'verify-release');
    const provenance = provenanceRequirement(values);
    const sbomDir = str(values['sbom-output']);
    const o = await trustFrom(values, io);
    const t = await openImageTarget(name!, openOptions(values, io.env));
    try {
      const r = await verifyRelease(t, {
        ...o,
        provenance,
        requireVuln: values['require-vuln-attestation'] === true,
        sbomOutput: sbomDir === undefined ? undefined : resolve(io.cwd, sbomDir),
      });
      if (output === 'json') {
        println(io.stdout, toJson(r));
        const f = failures(r);
        if (f.length > 0) {
          const list = f.map((x) => `${x.subject} ${x.check} [${x.code}]`).join(', ');
          println(io.stderr, `vouch verify-release: ${f.length} check(s) failed: ${list}`);
        }
      } else {
        for (const l of renderText(r)) println(io.stdout, l);
      }
      return r.ok ? ExitCode.Ok : ExitCode.Failure;
    } finally {
      await t.store.close();
    }
  },
};
