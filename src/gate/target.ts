/** What was scanned, as VEX product matching needs it: image purl and digests, package holders. */
import { imagePurl } from '../sbom/format/common.ts';
import type { Sbom } from '../sbom/model.ts';
import type { GateTarget } from './types.ts';

export function gateTargetFromSbom(sbom: Sbom): GateTarget {
  const productPurls: string[] = [];
  const productDigests: string[] = [];
  const purl = imagePurl(sbom.subject);
  if (purl) productPurls.push(purl);
  if (sbom.subject.kind === 'image') {
    productDigests.push(sbom.subject.digest);
    if (sbom.subject.indexDigest) productDigests.push(sbom.subject.indexDigest);
  }
  const byId = new Map(sbom.packages.map((p) => [p.id, p]));
  const parents: Record<string, string[]> = {};
  for (const p of sbom.packages) {
    const chain: string[] = [];
    const seen = new Set([p.id]);
    let owner = p.ownedBy ? byId.get(p.ownedBy) : undefined;
    while (owner && !seen.has(owner.id)) {
      seen.add(owner.id);
      chain.push(owner.purl);
      owner = owner.ownedBy ? byId.get(owner.ownedBy) : undefined;
    }
    if (chain.length > 0) parents[p.id] = chain;
  }
  return { productPurls, productDigests, parents };
}
