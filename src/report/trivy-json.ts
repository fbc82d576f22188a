/**
 * trivy's JSON report (SchemaVersion 2, pkg/types/report.go), field names and order as trivy
 * writes them, so tools that read trivy JSON read vouch's. vouch's own account of the gate sits
 * under one extra top-level key, `VouchGate`, and each vulnerability says how it was matched
 * under one extra key, `VouchMatch`; trivy readers ignore both.
 *
 * Findings suppressed by an exception (ignore file, VEX, vouch's set-aside rules) also appear in
 * the Result's `ExperimentalModifiedFindings`, as trivy's --show-suppressed writes them; findings
 * below the severity threshold or with an ignored status are, as in trivy, only left out of
 * `Vulnerabilities` (VouchGate.suppressed lists every one with its reason).
 */

import { severityCounts } from '../gate/policy.ts';
import { formatSource, type GateResult, type Suppressed } from '../gate/types.ts';
import type { CvssScore, Finding, Severity } from '../vuln/finding.ts';
import type { ReportContext, UnknownPackage } from './context.ts';
import { compareTargets, osFamily, osName, type TargetKey, targetId, targetOf } from './targets.ts';

export const TRIVY_SCHEMA_VERSION = 2;

/** trivy-db's severity numbers (VendorSeverity): UNKNOWN 0 … CRITICAL 4. */
export const SEVERITY_NUMBER: Record<Severity, number> = {
  UNKNOWN: 0,
  LOW: 1,
  MEDIUM: 2,
  HIGH: 3,
  CRITICAL: 4,
};

type Json = Record<string, unknown>;

/** Drop undefined and empty-string/empty-array fields, as Go's `omitempty` does. */
function omitEmpty(o: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}

function cvssJson(scores: readonly CvssScore[]): Json {
  const bySource = new Map<string, CvssScore[]>();
  for (const s of scores) bySource.set(s.source, [...(bySource.get(s.source) ?? []), s]);
  const out: Json = {};
  for (const source of [...bySource.keys()].sort()) {
    const list = bySource.get(source) ?? [];
    const v2 = list.find((s) => s.version === '2.0');
    const v3 = list.find((s) => s.version === '3.1') ?? list.find((s) => s.version === '3.0');
    const v4 = list.find((s) => s.version === '4.0');
    out[source] = omitEmpty({
      V2Vector: v2?.vector,
      V3Vector: v3?.vector,
      V40Vector: v4?.vector,
      V2Score: v2?.score,
      V3Score: v3?.score,
      V40Score: v4?.score,
    });
  }
  return out;
}

/**
 * Why the finding exists: the OSV records that matched (their ids are VulnerabilityID and
 * VendorIDs), the package and version looked up (a Debian binary through its source), the
 * affected range that held the version, and a built-in rule that set it aside. Installed and
 * fixed versions are trivy's own fields, the deciding severity source is SeveritySource.
 */
function matchJson(f: Finding): Json {
  return omitEmpty({
    Records: f.match.records,
    Ecosystem: f.match.ecosystem,
    PkgName: f.match.name,
    Via: f.match.via,
    ComparedVersion: f.match.version,
    Range: f.match.range,
    SetAside: f.setAside ? { Rule: f.setAside.rule, Reason: f.setAside.reason } : undefined,
  });
}

/** One DetectedVulnerability. */
export function vulnerabilityJson(f: Finding, t: TargetKey): Json {
  const vendor: Json = {};
  for (const k of Object.keys(f.vendorSeverity).sort()) {
    const s = f.vendorSeverity[k];
    if (s !== undefined) vendor[k] = SEVERITY_NUMBER[s];
  }
  return omitEmpty({
    VulnerabilityID: f.id,
    VendorIDs: f.aliases,
    PkgID: `${f.package.name}@${f.package.version}`,
    PkgName: f.package.name,
    PkgPath: t.pkgPath,
    PkgIdentifier: omitEmpty({ PURL: f.package.purl, UID: f.package.id }),
    InstalledVersion: f.installedVersion,
    FixedVersion: f.fixedVersion,
    Status: f.status,
    Layer: f.package.layer ? { Digest: f.package.layer } : undefined,
    SeveritySource: f.severitySource,
    PrimaryURL: f.primaryUrl,
    Title: f.title,
    Description: f.description,
    Severity: f.severity,
    VendorSeverity: vendor,
    CVSS: cvssJson(f.cvss),
    References: f.references,
    PublishedDate: f.published,
    LastModifiedDate: f.modified,
    VouchMatch: matchJson(f),
  });
}

/** trivy's ModifiedFinding for an exception-suppressed finding; undefined for threshold filters. */
function modifiedFinding(s: Suppressed, t: TargetKey): Json | undefined {
  const r = s.reason;
  const finding = vulnerabilityJson(s.finding, t);
  switch (r.kind) {
    case 'ignorefile':
      return {
        Type: 'vulnerability',
        Status: 'ignored',
        Statement: r.exception.statement,
        Source: r.exception.source.file,
        Finding: finding,
      };
    case 'vex':
      return {
        Type: 'vulnerability',
        Status: r.statement.status,
        Statement: r.statement.justification ?? r.statement.impactStatement ?? '',
        Source: r.statement.source.file,
        Finding: finding,
      };
    case 'set-aside':
      return {
        Type: 'vulnerability',
        Status: 'ignored',
        Statement: r.detail,
        Source: `vouch:set-aside/${r.rule}`,
        Finding: finding,
      };
    default:
      return undefined;
  }
}

interface Group {
  key: TargetKey;
  vulns: Json[];
  modified: Json[];
}

/** The whole report as a JSON value (serialise with serializeTrivyJson). */
export function toTrivyJson(result: GateResult, ctx: ReportContext): Json {
  const { sbom } = ctx;
  const groups = new Map<string, Group>();
  const group = (key: TargetKey): Group => {
    const id = targetId(key);
    let g = groups.get(id);
    if (!g) {
      g = { key: { target: key.target, class: key.class, type: key.type }, vulns: [], modified: [] };
      groups.set(id, g);
    }
    return g;
  };
  // every target the SBOM has, even without findings, as trivy lists them
  for (const p of sbom.packages)
    group(targetOf({ type: p.type, path: p.locations[0]?.path }, ctx.artifactName, sbom.os));
  for (const f of result.kept) {
    const t = targetOf(f.package, ctx.artifactName, sbom.os);
    group(t).vulns.push(vulnerabilityJson(f, t));
  }
  for (const s of result.suppressed) {
    const t = targetOf(s.finding.package, ctx.artifactName, sbom.os);
    const m = modifiedFinding(s, t);
    if (m) group(t).modified.push(m);
  }
  const results = [...groups.values()]
    .sort((a, b) => compareTargets(a.key, b.key))
    .map((g) =>
      omitEmpty({
        Target: g.key.target,
        Class: g.key.class,
        Type: g.key.type,
        Vulnerabilities: g.vulns,
        ExperimentalModifiedFindings: g.modified,
      }),
    );

  const os = sbom.os;
  const osPkgType = sbom.packages.find((p) => p.type === 'deb' || p.type === 'apk' || p.type === 'rpm')?.type;
  const metadata = omitEmpty({
    OS: os ? omitEmpty({ Family: osFamily(os, osPkgType ?? 'deb'), Name: osName(os) }) : undefined,
    RepoDigests: repoDigests(ctx),
  });
  return omitEmpty({
    SchemaVersion: TRIVY_SCHEMA_VERSION,
    CreatedAt: ctx.createdAt,
    ArtifactName: ctx.artifactName,
    ArtifactType: ctx.artifactType,
    Metadata: metadata,
    Results: results,
    VouchGate: vouchGate(result, ctx),
  });
}

/** `registry/repo@sha256:…` when the image came from a registry reference. */
function repoDigests(ctx: ReportContext): string[] {
  const s = ctx.sbom.subject;
  if (s.kind !== 'image') return [];
  const m = /^(?:docker:\/\/)?([^@\s]+?)(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/.exec(s.name);
  if (!m || /^(oci|oci-archive|docker-archive|dir):/.test(s.name) || !m[1]?.includes('/')) return [];
  return [`${m[1]}@${s.digest}`];
}

function pkgNote(u: UnknownPackage): Json {
  return { PkgName: u.name, InstalledVersion: u.version, PURL: u.purl, Reason: u.reason };
}

function vouchGate(result: GateResult, ctx: ReportContext): Json {
  const exceptionNote = (n: GateResult['expiredExceptions'][number]): Json =>
    omitEmpty({
      ID: n.exception.id,
      Paths: n.exception.paths,
      PURLs: n.exception.purls,
      Statement: n.exception.statement,
      ExpiredAt: n.exception.expires,
      Source: n.source,
    });
  return {
    decision: result.decision,
    policy: omitEmpty({ ...ctx.policy, ignoreStatuses: result.ignoredStatuses }),
    kept: severityCounts(result.kept),
    suppressed: result.suppressed.map((s) =>
      omitEmpty({
        VulnerabilityID: s.finding.id,
        PkgName: s.finding.package.name,
        PkgIdentifier: omitEmpty({ PURL: s.finding.package.purl, UID: s.finding.package.id }),
        InstalledVersion: s.finding.installedVersion,
        Severity: s.finding.severity,
        Reason: omitEmpty({
          Kind: s.reason.kind,
          Detail: s.reason.detail,
          Source:
            s.reason.kind === 'ignorefile'
              ? formatSource(s.reason.exception.source)
              : s.reason.kind === 'vex'
                ? formatSource(s.reason.statement.source)
                : undefined,
        }),
      }),
    ),
    expiredExceptions: result.expiredExceptions.map(exceptionNote),
    unusedExceptions: result.unusedExceptions.map(exceptionNote),
    unknown: ctx.unknown.map(pkgNote),
    skipped: (ctx.skipped ?? []).map(pkgNote),
    inputs: omitEmpty({ ...ctx.inputs }),
  };
}

/** Two-space indented JSON with a final newline, as trivy writes it. */
export function serializeTrivyJson(result: GateResult, ctx: ReportContext): string {
  return `${JSON.stringify(toTrivyJson(result, ctx), null, 2)}\n`;
}
