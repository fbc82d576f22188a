/**
 * `vouch verify-provenance`: what slsa-verifier (verify-artifact, verify-image) and
 * `gh attestation verify` do. The SLSA provenance of files (--provenance-path) or of an image (the
 * attestations stored with it, or --provenance-path) is signature-checked, then checked against
 * the artifact digests and the expected source, ref and builder. slsa-verifier's output:
 * `PASSED: SLSA verification passed` / `FAILED: SLSA verification failed: ...` on stderr.
 */
import { resolve } from 'node:path';
import { sha256File } from '../../attest/subjects.ts';
import { digestAlgorithm, digestHex } from '../../digest/digest.ts';
import { isVouchError, VouchError } from '../../errors.ts';
import { type ImageTarget, openImageTarget } from '../../sign/image/target.ts';
import type { IdentityPolicy } from '../../sigstore/types.ts';
import type { Signer } from '../../verify/image.ts';
import type { ProvenanceCheck } from '../../verify/provenance.ts';
import {
  type FoundProvenance,
  type ProvenanceVerifyOptions,
  provenanceFromFile,
  provenanceFromImage,
} from '../../verify/provenance-source.ts';
import {
  GITHUB_ACTIONS_ISSUER,
  type ProvenanceRequirements,
  type ProvenanceSubject,
  type SubjectVerification,
  verifyProvenanceFor,
} from '../../verify/provenance-verify.ts';
import { type CliIO, ExitCode, println } from '../io.ts';
import type { Command, OptionSpec } from '../main.ts';
import { openOptions, registryOptions } from './common.ts';
import { sourceOptions, sourceRequirements } from './source-options.ts';
import { checkTrustFlags, identityFlagsGiven, trustFrom, trustOptions } from './trust-options.ts';
import { describeSigner, describeTimes, outputOf } from './verify.ts';

/** Without --key or identity flags: a GitHub Actions workflow on github.com, as slsa-verifier requires. */
export const DEFAULT_GITHUB_IDENTITY: IdentityPolicy = {
  identityRegexp: 'https://github\\.com/.+',
  issuer: GITHUB_ACTIONS_ISSUER,
};

const options = {
  artifact: {
    type: 'string',
    multiple: true,
    description: 'a file the provenance must be about (repeatable); needs --provenance-path',
  },
  'provenance-path': {
    type: 'string',
    description: '.intoto.jsonl (DSSE envelopes) or .sigstore.json/.sigstore.jsonl (bundles)',
  },
  ...sourceOptions,
  'print-provenance': { type: 'boolean', description: 'print the verified provenance statement(s)' },
  ...trustOptions,
  ...registryOptions,
} as const satisfies Record<string, OptionSpec>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const usage = (m: string) => new VouchError('USAGE', m, { hint: 'see vouch verify-provenance --help' });

type Target = { kind: 'image'; name: string } | { kind: 'artifacts'; paths: string[] };

interface Parsed {
  target: Target;
  provenancePath: string | undefined;
  required: ProvenanceRequirements;
  output: 'text' | 'json';
  print: boolean;
  /** The signer: the flags of `vouch verify`, or GitHub Actions by default. */
  defaultIdentity: boolean;
}

/** Flags → what to do; every mistake is a USAGE error, before any I/O. */
function parse(values: Record<string, unknown>, positionals: string[]): Parsed {
  if (positionals.length > 1) throw usage(`expected at most one IMAGE, got ${positionals.length} arguments`);
  const artifacts = Array.isArray(values.artifact) ? values.artifact.map(String) : [];
  const image = positionals[0];
  if (image !== undefined && artifacts.length > 0) throw usage('give an IMAGE or --artifact files, not both');
  if (image === undefined && artifacts.length === 0) throw usage('give an IMAGE or --artifact FILE');
  const provenancePath = str(values['provenance-path']);
  if (artifacts.length > 0 && provenancePath === undefined) {
    throw usage('--artifact needs --provenance-path (the .intoto.jsonl or .sigstore.json file)');
  }
  const required = sourceRequirements(
    values,
    'verify-provenance',
    '--source-uri is required, e.g. --source-uri github.com/o/r',
  );
  const defaultIdentity = values.key === undefined && identityFlagsGiven(values).length === 0;
  if (!defaultIdentity) checkTrustFlags(values, 'verify-provenance');
  return {
    target: image !== undefined ? { kind: 'image', name: image } : { kind: 'artifacts', paths: artifacts },
    provenancePath,
    required,
    output: outputOf(values.output, 'verify-provenance'),
    print: values['print-provenance'] === true,
    defaultIdentity,
  };
}

/** The verification options: `vouch verify`'s, with GitHub Actions as the default signer. */
async function verifyOptions(
  values: Record<string, unknown>,
  p: Parsed,
  io: CliIO,
): Promise<ProvenanceVerifyOptions> {
  const o = await trustFrom(values, io);
  const trust =
    p.defaultIdentity && o.trust.kind === 'keyless'
      ? { ...o.trust, identity: DEFAULT_GITHUB_IDENTITY }
      : o.trust;
  return {
    ...o,
    trust,
    ...(values['insecure-ignore-tlog'] ? { currentTimeWithoutTimestamps: true } : {}),
  };
}

function expectedSigner(o: ProvenanceVerifyOptions): string {
  if (o.trust.kind === 'key') return `key ${o.trust.key.hint}`;
  const id = o.trust.identity;
  const who = id.identity ?? (id.identityRegexp !== undefined ? `/${id.identityRegexp}/` : '(any)');
  const issuer = id.issuer ?? (id.issuerRegexp !== undefined ? `/${id.issuerRegexp}/` : '(any)');
  return `certificate ${who} (issuer ${issuer})`;
}

function signerJson(s: Signer): Record<string, unknown> {
  return s.kind === 'key'
    ? { kind: 'key', hint: s.hint }
    : { kind: 'certificate', identity: s.claims.subjectAlternativeName, issuer: s.claims.issuer };
}

/** The checks of one subject, the signature first. */
function checksOf(v: SubjectVerification, o: ProvenanceVerifyOptions): ProvenanceCheck[] {
  return [
    { field: 'signature', expected: expectedSigner(o), found: describeSigner(v.provenance.signer) },
    ...v.checks,
  ];
}

async function subjectsOf(
  t: Target,
  image: ImageTarget | undefined,
  io: CliIO,
): Promise<ProvenanceSubject[]> {
  if (image) {
    if (digestAlgorithm(image.image.digest) !== 'sha256') {
      throw new VouchError('SUBJECT_MISMATCH', `${image.display}: SLSA provenance names sha256 digests only`);
    }
    return [{ name: image.display, sha256: digestHex(image.image.digest) }];
  }
  const paths = t.kind === 'artifacts' ? t.paths : [];
  const out: ProvenanceSubject[] = [];
  for (const p of paths) out.push({ name: p, sha256: await sha256File(resolve(io.cwd, p)) });
  return out;
}

function report(
  results: readonly SubjectVerification[],
  found: FoundProvenance,
  p: Parsed,
  o: ProvenanceVerifyOptions,
  io: CliIO,
): void {
  for (const r of found.rejected)
    println(io.stderr, `  not verified: ${r.location}: [${r.error.code}] ${r.error.message}`);
  const used = [...new Set(results.map((r) => r.provenance))];
  if (p.output === 'json') {
    const subjects = results.map((r) => ({
      name: r.subject.name,
      digest: `sha256:${r.subject.sha256}`,
      provenance: {
        location: r.provenance.location,
        predicateType: r.summary.predicateType,
        builderId: r.summary.builderId,
        signer: signerJson(r.provenance.signer),
        timestamps: r.provenance.timestamps.map((t) => ({ source: t.source, time: t.time.toISOString() })),
      },
      checks: checksOf(r, o),
      ...(p.print ? { statement: r.provenance.statement } : {}),
    }));
    println(io.stdout, JSON.stringify({ verified: true, subjects }, null, 2));
  } else if (p.print) {
    for (const u of used) println(io.stdout, JSON.stringify(u.statement));
  }
  for (const u of used) {
    println(
      io.stderr,
      `Verified signature of ${u.location} (${u.statement.predicateType}): ${describeSigner(u.signer)}${describeTimes(u.timestamps)}`,
    );
  }
  for (const r of results) {
    println(
      io.stderr,
      `Verified ${r.subject.name} (sha256:${r.subject.sha256}) with ${r.provenance.location}:`,
    );
    for (const c of checksOf(r, o))
      println(io.stderr, `  ${c.field}: expected ${c.expected}, found ${c.found}`);
  }
  println(io.stderr, 'PASSED: SLSA verification passed');
}

function failed(e: VouchError, p: Parsed, io: CliIO): number {
  if (p.output === 'json') {
    const error = { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
    println(io.stdout, JSON.stringify({ verified: false, error }, null, 2));
  }
  println(io.stderr, `FAILED: SLSA verification failed: [${e.code}] ${e.message}`);
  if (e.hint) println(io.stderr, `  hint: ${e.hint}`);
  return ExitCode.Failure;
}

export const verifyProvenanceCommand: Command = {
  name: 'verify-provenance',
  summary: 'Verify the SLSA provenance of files or an image: signature, subject, source and builder',
  usage:
    'verify-provenance (IMAGE | --artifact FILE...) [--provenance-path F] --source-uri github.com/o/r ' +
    '[--source-tag T | --source-versioned-tag vX[.Y[.Z]]] [--source-branch B] [--builder-id ID] ' +
    '[--key PUB | --certificate-identity[-regexp] I --certificate-oidc-issuer[-regexp] O] [--trusted-root T] ' +
    '[--offline] [--insecure-ignore-tlog] [--print-provenance] [--output json]',
  help: [
    'What slsa-verifier verify-artifact / verify-image check, offline. The provenance comes from',
    '--provenance-path (a .intoto.jsonl of DSSE envelopes with their Fulcio certificate, as',
    'slsa-github-generator writes, or a Sigstore bundle .sigstore.json / .sigstore.jsonl, as',
    'actions/attest-build-provenance writes) or, for an IMAGE (registry or oci:DIR[:TAG]), from the',
    'SLSA provenance attestations (v1 and v0.2) stored with it (referrers and the .att tag).',
    '',
    'Checks, in order: the signature (--key, or the keyless identity; with neither, a GitHub',
    'Actions workflow on github.com: issuer https://token.actions.githubusercontent.com); for a',
    'GitHub Actions certificate, that the provenance agrees with it (builder id = the signing',
    'workflow, source repository, commit and ref); --builder-id; the source repository',
    '(--source-uri, against the trigger and the source of the provenance); that a subject has',
    "the artifact's or image's sha256; --source-branch, --source-tag, --source-versioned-tag.",
    'One provenance passing every check is enough; with several artifacts, each needs one.',
    '',
    'PASSED / FAILED go to stderr with the list of checks (field, expected, found); exit 1 on any',
    'failure, naming its code: SUBJECT_MISMATCH (made for another digest), PROVENANCE_MISMATCH',
    '(another source repository, ref or builder: field, expected and found value),',
    'IDENTITY_MISMATCH / ISSUER_MISMATCH / KEY_MISMATCH / SIGNATURE_INVALID (signature).',
    '',
    'Transparency log: a .intoto.jsonl envelope carries no log proof; slsa-verifier fetches it',
    'from Rekor, vouch never goes online to verify, so such a file fails with TLOG_INVALID.',
    '--insecure-ignore-tlog accepts it unlogged; the certificate must then be valid now (there',
    'is no trusted signing time), which Fulcio certificates are for 10 minutes: prefer bundles.',
    '',
    '--offline: vouch verifies offline anyway; trust root, keys and provenance come from files and',
    'the only connections are to the registry of a remote IMAGE. --print-provenance prints the',
    'verified statement(s) to stdout; --output json prints {verified, subjects[{name, digest,',
    'provenance, checks}]} (and {verified: false, error} on failure).',
    '',
    'Examples:',
    '  vouch verify-provenance --artifact app.tar.gz --provenance-path app.intoto.jsonl \\',
    '    --source-uri github.com/o/app --source-tag v1.2.3 --insecure-ignore-tlog',
    '  vouch verify-provenance --artifact app.tar.gz --provenance-path app.sigstore.json \\',
    '    --source-uri github.com/o/app --source-versioned-tag v1',
    '  vouch verify-provenance ghcr.io/o/app@sha256:... --source-uri github.com/o/app \\',
    '    --builder-id https://github.com/o/app/.github/workflows/release.yml',
    '  vouch verify-provenance oci:./layout:v1 --key cosign.pub --source-uri github.com/o/app --offline',
  ].join('\n'),
  options,
  async run({ values, positionals }, io) {
    const p = parse(values, positionals);
    let image: ImageTarget | undefined;
    try {
      const o = await verifyOptions(values, p, io);
      if (p.target.kind === 'image') {
        image = await openImageTarget(p.target.name, openOptions(values, io.env));
        if (image.tag !== undefined) {
          println(
            io.stderr,
            `note: ${p.target.name} names a tag; verifying the image it names now, ${image.image.digest}`,
          );
        }
      }
      const subjects = await subjectsOf(p.target, image, io);
      const found =
        p.provenancePath !== undefined
          ? await provenanceFromFile(resolve(io.cwd, p.provenancePath), o)
          : await provenanceFromImage(image!.store, image!.image.digest, o);
      const results = verifyProvenanceFor(found.verified, subjects, p.required);
      report(results, found, p, o, io);
      return ExitCode.Ok;
    } catch (e) {
      if (!isVouchError(e) || e.code === 'USAGE') throw e;
      return failed(e, p, io);
    } finally {
      await image?.store.close();
    }
  },
};
