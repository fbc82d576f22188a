/**
 * OCI whiteouts (image-spec layer.md): `.wh.<name>` deletes <name> from lower layers,
 * `.wh..wh..opq` hides every lower child of its directory. Other `.wh..wh.` names are aufs
 * bookkeeping and are hidden as well.
 */
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
const META_PREFIX = '.wh..wh.';

export type Whiteout =
  | { kind: 'none' }
  | { kind: 'opaque' }
  | { kind: 'whiteout'; name: string }
  | { kind: 'meta' }
  | { kind: 'invalid'; reason: string };

/** What a base name means as a whiteout. */
export function classifyWhiteout(base: string): Whiteout {
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  if (base === OPAQUE_MARKER) return { kind: 'opaque' };
  if (base.startsWith(META_PREFIX)) return { kind: 'meta' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '') return { kind: 'invalid', reason: "bare '.wh.' whiteout names nothing" };
  if (name === '.' || name === '..') return { kind: 'invalid', reason: `whiteout '${base}' names '${name}'` };
  return { kind: 'whiteout', name };
}
