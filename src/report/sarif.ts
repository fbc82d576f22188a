/**
 * SARIF 2.1.0 as trivy writes it (pkg/report/sarif.go): one run; a rule per vulnerability id
 * (name OsPackageVulnerability / LanguageSpecificPackageVulnerability, help text and markdown,
 * properties tags, precision, security-severity = the CVSS v3 score of the severity source,
 * else 9.5/8.0/5.5/2.0/0.0); a result per kept finding with level error (CRITICAL, HIGH), warning
 * (MEDIUM) or note (LOW, UNKNOWN) and a location under ROOTPATH.
 *
 * Unlike trivy, findings suppressed by an exception (ignore file, VEX, set-aside) are kept as
 * results carrying SARIF's own `suppressions` (status accepted, with the justification), so code
 * scanning shows them as dismissed with the reason instead of losing them. Threshold filters
 * (severity, status) are not results, as in trivy.
 */
import type { GateResult, Suppressed } from '../gate/types.ts';
import type { Finding, Severity } from '../vuln/finding.ts';
import type { ReportContext } from './context.ts';
import { targetOf } from './targets.ts';

export const SARIF_VERSION = '2.1.0';
/** The schema trivy's SARIF names; vouch's tests validate against a vendored copy of it. */
export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0-rtm.5.json';

type Json = Record<string, unknown>;

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  CRITICAL: 'error',
  HIGH: 'error',
  MEDIUM: 'warning',
  LOW: 'note',
  UNKNOWN: 'note',
};

const SCORE: Record<Severity, string> = {
  CRITICAL: '9.5',
  HIGH: '8.0',
  MEDIUM: '5.5',
  LOW: '2.0',
  UNKNOWN: '0.0',
};

/** security-severity: the v3 score from the source that decided the severity, else by severity. */
function securitySeverity(f: Finding): { score: string; data: Json } {
  const from = f.cvss.filter((c) => c.source === f.severitySource);
  const v2 = from.find((c) => c.version === '2.0');
  const v3 = from.find((c) => c.version === '3.1') ?? from.find((c) => c.version === '3.0');
  const v4 = from.find((c) => c.version === '4.0');
  const data: Json = {};
  if (v2) Object.assign(data, { cvssv2_vector: v2.vector, cvssv2_score: v2.score });
  if (v3) Object.assign(data, { cvssv3_vector: v3.vector, cvssv3_baseScore: v3.score });
  if (v4) Object.assign(data, { cvssv40_vector: v4.vector, cvssv40_baseScore: v4.score });
  return { score: v3 && v3.score !== 0 ? v3.score.toFixed(1) : SCORE[f.severity], data };
}

/** A SARIF uri-reference: path segments percent-encoded, '/' kept. */
function uriOf(path: string): string {
  return path
    .replace(/^\/+/, '')
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

/** trivy's artifact location: the package path, else the image repository (or the artifact name). */
function locationOf(f: Finding, ctx: ReportContext): string {
  if (f.package.path) return uriOf(f.package.path);
  const s = ctx.sbom.subject;
  if (s.kind === 'image' && s.repository) return uriOf(s.repository);
  return uriOf(ctx.artifactName.replace(/^[a-z-]+:/, ''));
}

function ruleName(f: Finding, ctx: ReportContext): string {
  return targetOf(f.package, ctx.artifactName, ctx.sbom.os).class === 'os-pkgs'
    ? 'OsPackageVulnerability'
    : 'LanguageSpecificPackageVulnerability';
}

function suppressionOf(s: Suppressed): Json | undefined {
  const r = s.reason;
  if (r.kind !== 'ignorefile' && r.kind !== 'vex' && r.kind !== 'set-aside') return undefined;
  return { kind: 'external', status: 'accepted', justification: `${r.kind}: ${r.detail}` };
}

export function toSarif(result: GateResult, ctx: ReportContext): Json {
  const rules: Json[] = [];
  const ruleIndex = new Map<string, number>();
  const results: Json[] = [];
  const add = (f: Finding, suppression?: Json) => {
    const url = f.primaryUrl ?? '';
    const fixed = f.fixedVersion ?? '';
    const description = f.description ?? '';
    const { score, data } = securitySeverity(f);
    let index = ruleIndex.get(f.id);
    if (index === undefined) {
      index = rules.length;
      ruleIndex.set(f.id, index);
      rules.push({
        id: f.id,
        name: ruleName(f, ctx),
        shortDescription: { text: f.title ?? f.id },
        fullDescription: { text: description || f.title || f.id },
        defaultConfiguration: { level: LEVEL[f.severity] },
        ...(url ? { helpUri: url } : {}),
        help: {
          text: `Vulnerability ${f.id}\nSeverity: ${f.severity}\nPackage: ${f.package.name}\nFixed Version: ${fixed}\nLink: [${f.id}](${url})\n${description}`,
          markdown: `**Vulnerability ${f.id}**\n| Severity | Package | Fixed Version | Link |\n| --- | --- | --- | --- |\n|${f.severity}|${f.package.name}|${fixed}|[${f.id}](${url})|\n\n${description}`,
        },
        properties: {
          tags: ['vulnerability', 'security', f.severity],
          precision: 'very-high',
          'security-severity': score,
          ...data,
        },
      });
    }
    const uri = locationOf(f, ctx);
    results.push({
      ruleId: f.id,
      ruleIndex: index,
      level: LEVEL[f.severity],
      message: {
        text: `Package: ${f.package.name}\nInstalled Version: ${f.installedVersion}\nVulnerability ${f.id}\nSeverity: ${f.severity}\nFixed Version: ${fixed}\nLink: [${f.id}](${url})`,
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri, uriBaseId: 'ROOTPATH' },
            region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 },
          },
          message: { text: `${uri}: ${f.package.name}@${f.installedVersion}` },
        },
      ],
      ...(suppression ? { suppressions: [suppression] } : {}),
    });
  };
  for (const f of result.kept) add(f);
  for (const s of result.suppressed) {
    const sup = suppressionOf(s);
    if (sup) add(s.finding, sup);
  }
  const subject = ctx.sbom.subject;
  return {
    version: SARIF_VERSION,
    $schema: SARIF_SCHEMA,
    runs: [
      {
        tool: {
          driver: {
            fullName: 'vouch vulnerability gate',
            name: 'vouch',
            rules,
            version: ctx.toolVersion,
          },
        },
        results,
        columnKind: 'utf16CodeUnits',
        originalUriBaseIds: { ROOTPATH: { uri: 'file:///' } },
        properties: {
          ...(subject.kind === 'image' ? { imageName: ctx.artifactName, imageDigest: subject.digest } : {}),
          vouchGate: { decision: result.decision, inputs: { ...ctx.inputs } },
        },
      },
    ],
  };
}

export function serializeSarif(result: GateResult, ctx: ReportContext): string {
  return `${JSON.stringify(toSarif(result, ctx), null, 2)}\n`;
}
