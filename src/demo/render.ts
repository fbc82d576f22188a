/** The demo's results as readable lines (pure: the caller prints them). */
import { relative } from 'node:path';
import { humanSize } from '../cli/io.ts';
import { renderText } from '../release/render.ts';
import type { ConsumerResult } from './consumer.ts';
import type { DemoResult, GateDecision } from './demo.ts';

export function renderPipelineEnd(gate: readonly GateDecision[], records: number): string[] {
  const per = gate.map(
    (g) => `${g.arch} ${g.decision.toUpperCase()} (${g.findings} findings, ${g.overPolicy} over the policy)`,
  );
  return [`gate against ${records} advisories: ${per.join(', ')}`];
}

export function renderConsumer(c: ConsumerResult): string[] {
  const out = [`verify-release (signatures, SBOM and scan attestations; provenance checked below):`];
  out.push(...renderText(c.release).map((l) => `  ${l}`));
  out.push('provenance of a local build (vouch.yaml by digest, byproducts against the store):');
  for (const p of c.provenance) {
    const o = p.outcome;
    out.push(
      o.status === 'pass'
        ? `  ✓ ${p.subject}: ${o.detail}`
        : o.status === 'fail'
          ? `  ✗ ${p.subject}: [${o.code}] ${o.message}`
          : `  - ${p.subject}: skipped (${o.reason})`,
    );
  }
  const failed = c.artifacts.filter((a) => a.status === 'fail');
  out.push(
    failed.length === 0
      ? `artifact store: ✓ ${c.artifacts.length} artifacts, each .sig verified with the public key`
      : `artifact store: ✗ ${failed.length} of ${c.artifacts.length} artifacts failed`,
  );
  for (const a of failed) if (a.status === 'fail') out.push(`  ✗ ${a.key}: [${a.code}] ${a.message}`);
  out.push(c.ok ? 'VERIFIED as a consumer' : 'NOT VERIFIED');
  return out;
}

/** "Where everything landed": paths relative to the work directory, which is named first. */
export function renderLanded(r: Extract<DemoResult, { status: 'done' }>): string[] {
  const rel = (p: string) => relative(r.workDir, p) || '.';
  const l = r.landed;
  const out = [`Where everything landed, in ${r.workDir}:`];
  out.push(`  ${rel(l.registry.dir)}/  OCI layout standing in for ${r.image.name}`);
  out.push(`      tags ${l.registry.tags.join(', ')}`);
  out.push(
    `      + ${l.registry.attachmentTags.length} cosign signature and attestation tags (sha256-<digest>.sig / .att)`,
  );
  out.push(`  pinned  ${r.pinned}`);
  for (const [arch, digest] of Object.entries(r.images)) {
    out.push(`          ${r.image.name}:${r.image.version}-${arch}@${digest}`);
  }
  out.push(`  ${rel(l.artifacts.dir)}/  artifact store, by architecture, each file with its .sig`);
  for (const f of l.artifacts.files) {
    out.push(`      ${f.key}  ${humanSize(f.bytes)}${f.signed ? '  + .sig' : '  (NO .sig)'}`);
  }
  out.push('  verified SBOMs, downloaded from the registry stand-in');
  for (const s of l.sboms) out.push(`      ${rel(s)}`);
  out.push(
    `  keys    ${rel(r.keys.privateKey)} (demo key, encrypted), ${rel(r.keys.publicKey)}, ${rel(r.keys.passwordFile)} (its passphrase)`,
  );
  out.push(`  advisories  ${rel(r.advisories.db)} (${r.advisories.records} records)`);
  out.push('  .vouch/  the pipeline’s work area: the local layout every image was built in first');
  return out;
}
