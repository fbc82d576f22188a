/**
 * Predicates as cosign makes them: `--type` aliases → predicate type URIs, the predicate each
 * type gets from a file (cosign pkg/cosign/attestation GenerateStatement), the cosign vulnerability
 * scan predicate from a vouch scan report, and SBOM predicates (the document itself).
 * source: sigstore/cosign cmd/cosign/cli/options/predicate.go, pkg/cosign/attestation/attestation.go,
 * specs/COSIGN_VULN_ATTESTATION_SPEC.md
 */
import pkgJson from '../../package.json' with { type: 'json' };
import { VouchError } from '../errors.ts';
import { rfc3339 } from './provenance/build.ts';
import { SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02 } from './provenance/types.ts';

export const COSIGN_CUSTOM_PREDICATE = 'https://cosign.sigstore.dev/attestation/v1';
export const COSIGN_VULN_PREDICATE = 'https://cosign.sigstore.dev/attestation/vuln/v1';
export const SPDX_PREDICATE = 'https://spdx.dev/Document';
export const CYCLONEDX_PREDICATE = 'https://cyclonedx.org/bom';
export const IN_TOTO_LINK_PREDICATE = 'https://in-toto.io/Link/v1';
export const OPENVEX_PREDICATE = 'https://openvex.dev/ns';

/** cosign's `--type` names, in its order; `custom` is cosign's default. */
export const PREDICATE_ALIASES = [
  'custom',
  'slsaprovenance',
  'slsaprovenance02',
  'slsaprovenance1',
  'spdx',
  'spdxjson',
  'cyclonedx',
  'link',
  'vuln',
  'openvex',
] as const;
export type PredicateAlias = (typeof PREDICATE_ALIASES)[number];

export const PREDICATE_TYPE_BY_ALIAS: { readonly [A in PredicateAlias]: string } = {
  custom: COSIGN_CUSTOM_PREDICATE,
  slsaprovenance: SLSA_PROVENANCE_V02,
  slsaprovenance02: SLSA_PROVENANCE_V02,
  slsaprovenance1: SLSA_PROVENANCE_V1,
  spdx: SPDX_PREDICATE,
  spdxjson: SPDX_PREDICATE,
  cyclonedx: CYCLONEDX_PREDICATE,
  link: IN_TOTO_LINK_PREDICATE,
  vuln: COSIGN_VULN_PREDICATE,
  openvex: OPENVEX_PREDICATE,
};

export function isPredicateAlias(t: string): t is PredicateAlias {
  return (PREDICATE_ALIASES as readonly string[]).includes(t);
}

/**
 * What Go's url.ParseRequestURI (cosign's check) accepts, without control characters or spaces:
 * an absolute URI with a scheme, or an absolute path.
 */
function isRequestUri(t: string): boolean {
  if (t === '' || /[\s\u0000-\u001f\u007f]/.test(t)) return false;
  return t.startsWith('/') || /^[A-Za-z][A-Za-z0-9+.-]*:./.test(t);
}

/** `--type` value → predicate type URI, as cosign ParsePredicateType; USAGE for anything else. */
export function predicateTypeFor(type: string): string {
  if (isPredicateAlias(type)) return PREDICATE_TYPE_BY_ALIAS[type];
  if (isRequestUri(type)) return type;
  throw new VouchError('USAGE', `invalid predicate type ${JSON.stringify(type)}`, {
    hint: `use one of ${PREDICATE_ALIASES.join(', ')}, or a URI such as https://example.com/attestation/v1`,
  });
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonObject(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new VouchError('STATEMENT_INVALID', `${what} is not JSON: ${(e as Error).message}`);
  }
  if (!isObj(v)) throw new VouchError('STATEMENT_INVALID', `${what} is not a JSON object`);
  return v;
}

/** cosign checkRequiredJSONFields: every non-omitempty field of the Go type must be present. */
const REQUIRED_FIELDS: Partial<Record<PredicateAlias, readonly string[]>> = {
  slsaprovenance: ['builder', 'buildType'],
  slsaprovenance02: ['builder', 'buildType'],
  slsaprovenance1: ['buildDefinition', 'runDetails'],
  link: ['_type', 'name', 'materials', 'products', 'byproducts', 'command', 'environment'],
};

/** cosign's custom predicate: the file's text as `Data`, the time as `Timestamp` (RFC 3339). */
export interface CosignCustomPredicate {
  Data: string;
  Timestamp: string;
}

/**
 * The predicate `cosign attest --type TYPE --predicate FILE` puts in the statement: custom wraps
 * the text, spdx keeps it as a string, other aliases and URIs take the file as JSON (checked).
 */
export function predicateFromFile(
  type: string,
  text: string,
  now: Date,
): { predicateType: string; predicate: unknown } {
  const predicateType = predicateTypeFor(type);
  const what = `predicate for --type ${type}`;
  if (type === 'custom') {
    const predicate: CosignCustomPredicate = { Data: text, Timestamp: rfc3339(now, 'Timestamp') };
    return { predicateType, predicate };
  }
  if (type === 'spdx') return { predicateType, predicate: text };
  const doc = jsonObject(text, what);
  const required = isPredicateAlias(type) ? REQUIRED_FIELDS[type] : undefined;
  for (const f of required ?? []) {
    if (!(f in doc)) throw new VouchError('STATEMENT_INVALID', `${what}: required field ${f} is missing`);
  }
  return { predicateType, predicate: type === 'vuln' ? normaliseVuln(doc, what) : doc };
}

/** cosign CosignVulnPredicate, field names and order as cosign marshals it. */
export interface CosignVulnPredicate {
  invocation: { parameters: unknown; uri: string; event_id: string; 'builder.id': string };
  scanner: { uri: string; version: string; db: { uri: string; version: string }; result: unknown };
  metadata: { scanStartedOn: string; scanFinishedOn: string };
}

function optionalString(v: unknown, field: string, what: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new VouchError('STATEMENT_INVALID', `${what}: ${field} is not a string`);
  return v;
}

function time(v: unknown, field: string, what: string): string {
  if (typeof v !== 'string' && !(v instanceof Date)) {
    throw new VouchError('STATEMENT_INVALID', `${what}: ${field} must be an RFC 3339 time`);
  }
  try {
    return rfc3339(v, field);
  } catch (e) {
    throw new VouchError('STATEMENT_INVALID', `${what}: ${(e as Error).message}`);
  }
}

/** Re-shape a vuln predicate as cosign does (unmarshal into its struct, marshal again). */
function normaliseVuln(doc: Record<string, unknown>, what: string): CosignVulnPredicate {
  const inv = isObj(doc.invocation) ? doc.invocation : {};
  const sc = isObj(doc.scanner) ? doc.scanner : {};
  const db = isObj(sc.db) ? sc.db : {};
  const md = isObj(doc.metadata) ? doc.metadata : {};
  return {
    invocation: {
      parameters: inv.parameters ?? null,
      uri: optionalString(inv.uri, 'invocation.uri', what),
      event_id: optionalString(inv.event_id, 'invocation.event_id', what),
      'builder.id': optionalString(inv['builder.id'], 'invocation.builder.id', what),
    },
    scanner: {
      uri: optionalString(sc.uri, 'scanner.uri', what),
      version: optionalString(sc.version, 'scanner.version', what),
      db: {
        uri: optionalString(db.uri, 'scanner.db.uri', what),
        version: optionalString(db.version, 'scanner.db.version', what),
      },
      result: sc.result ?? null,
    },
    metadata: {
      scanStartedOn: time(md.scanStartedOn, 'metadata.scanStartedOn', what),
      scanFinishedOn: time(md.scanFinishedOn, 'metadata.scanFinishedOn', what),
    },
  };
}

export interface VulnPredicateOptions {
  /** Default: the report's CreatedAt (set from SOURCE_DATE_EPOCH); one of the two is required. */
  scanStartedOn?: Date | string;
  /** Default: scanStartedOn, as trivy's cosign-vuln writer does. */
  scanFinishedOn?: Date | string;
  /** Default: vouch (the version in a SARIF report, else this vouch's version). */
  scanner?: { uri?: string; version?: string };
  /** Default version: the advisory database digest the report records. */
  db?: { uri?: string; version?: string };
  invocation?: { parameters?: unknown; uri?: string; eventId?: string; builderId?: string };
}

interface ReportFacts {
  kind: 'trivy-json' | 'sarif';
  toolVersion?: string;
  dbDigest?: string;
  createdAt?: string;
}

/** What a vouch scan report (trivy JSON or SARIF, as `vouch scan` writes them) tells about the scan. */
function reportFacts(report: unknown): ReportFacts {
  if (!isObj(report)) throw new VouchError('STATEMENT_INVALID', 'scan report is not a JSON object');
  if (report.SchemaVersion === 2 && ('Results' in report || 'ArtifactName' in report)) {
    const gate = isObj(report.VouchGate) ? report.VouchGate : {};
    const inputs = isObj(gate.inputs) ? gate.inputs : {};
    return {
      kind: 'trivy-json',
      ...(typeof inputs.dbDigest === 'string' ? { dbDigest: inputs.dbDigest } : {}),
      ...(typeof report.CreatedAt === 'string' ? { createdAt: report.CreatedAt } : {}),
    };
  }
  const run = Array.isArray(report.runs) && isObj(report.runs[0]) ? report.runs[0] : undefined;
  if (run && typeof report.version === 'string') {
    const tool = isObj(run.tool) && isObj(run.tool.driver) ? run.tool.driver : {};
    const props = isObj(run.properties) ? run.properties : {};
    const gate = isObj(props.vouchGate) ? props.vouchGate : {};
    const inputs = isObj(gate.inputs) ? gate.inputs : {};
    return {
      kind: 'sarif',
      ...(typeof tool.version === 'string' ? { toolVersion: tool.version } : {}),
      ...(typeof inputs.dbDigest === 'string' ? { dbDigest: inputs.dbDigest } : {}),
    };
  }
  throw new VouchError(
    'STATEMENT_INVALID',
    'scan report is neither trivy JSON (SchemaVersion 2) nor SARIF 2.1.0',
    { hint: 'write one with vouch scan --format json --output FILE' },
  );
}

/** The cosign vuln predicate (`cosign attest --type vuln`) around a vouch scan report. */
export function vulnPredicateFromReport(report: unknown, o: VulnPredicateOptions = {}): CosignVulnPredicate {
  const facts = reportFacts(report);
  const what = 'vulnerability predicate';
  const started = o.scanStartedOn ?? facts.createdAt;
  if (started === undefined) {
    throw new VouchError('STATEMENT_INVALID', `${what}: the scan start time is unknown`, {
      hint: 'pass the scan times, or scan with SOURCE_DATE_EPOCH set so the report records CreatedAt',
    });
  }
  const version = o.scanner?.version ?? facts.toolVersion ?? pkgJson.version;
  return {
    invocation: {
      parameters: o.invocation?.parameters ?? null,
      uri: o.invocation?.uri ?? '',
      event_id: o.invocation?.eventId ?? '',
      'builder.id': o.invocation?.builderId ?? '',
    },
    scanner: {
      uri: o.scanner?.uri ?? `pkg:generic/vouch@${version}`,
      version,
      db: { uri: o.db?.uri ?? '', version: o.db?.version ?? facts.dbDigest ?? '' },
      result: report,
    },
    metadata: {
      scanStartedOn: time(started, 'metadata.scanStartedOn', what),
      scanFinishedOn: time(o.scanFinishedOn ?? started, 'metadata.scanFinishedOn', what),
    },
  };
}

/** An SBOM document as its own predicate: CycloneDX or SPDX JSON, recognised from the document. */
export function sbomPredicate(doc: unknown): { predicateType: string; predicate: Record<string, unknown> } {
  if (isObj(doc) && doc.bomFormat === 'CycloneDX')
    return { predicateType: CYCLONEDX_PREDICATE, predicate: doc };
  if (isObj(doc) && typeof doc.spdxVersion === 'string' && doc.spdxVersion.startsWith('SPDX-')) {
    return { predicateType: SPDX_PREDICATE, predicate: doc };
  }
  throw new VouchError('SBOM_INVALID', 'not a CycloneDX (bomFormat) or SPDX (spdxVersion) JSON document');
}
