/**
 * Stage 7, sign: sign the provenance statement of each architecture (the attestation), then
 * upload every artifact with its `.sig` to the artifact store, by architecture
 * (src/store/upload.ts: atomic writes, idempotent). The image signatures are made by `push`, in
 * the target, before the image's tags exist.
 */
import { readFile, stat } from 'node:fs/promises';
import { type ArtifactKind, artifactKey } from '../../store/layout.ts';
import { openStore } from '../../store/open.ts';
import { readAll } from '../../store/store.ts';
import { type ArtifactFile, uploadArtifacts } from '../../store/upload.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { signStatement } from '../attestation.ts';
import type { StageContext } from '../context.ts';
import { currentDescriptor } from '../images.ts';
import type { Figures, StageResult } from '../types.ts';
import { type ArtifactFiles, boundDigest } from '../work.ts';

const UPLOADS: readonly { kind: ArtifactKind; file: keyof ArtifactFiles }[] = [
  { kind: 'sbom-cyclonedx', file: 'cyclonedx' },
  { kind: 'sbom-spdx', file: 'spdx' },
  { kind: 'attestation', file: 'attestation' },
  { kind: 'scan', file: 'scan' },
];

const exists = async (p: string) => (await stat(p).catch(() => undefined))?.isFile() === true;

export async function signStage(ctx: StageContext): Promise<StageResult> {
  const signer = await ctx.signer();
  const store = await openStore(ctx.config.store, { env: ctx.env });
  const release = { name: ctx.config.image.name, version: ctx.config.image.version };
  const figures: Figures = { store: store.description, signer: signer.description };
  ctx.state.release.store = store.description;
  try {
    for (const arch of ctx.config.image.architectures) {
      const image = await currentDescriptor(ctx, arch);
      const files = ctx.work.files(arch);
      if ((await boundDigest(ctx.work, arch)) !== image.digest) {
        ctx.log.warn(`no artifacts for ${image.digest} in the work area (run sbom, scan and provenance)`, {
          arch,
        });
        figures[arch] = { uploaded: 0 };
        continue;
      }
      if (await exists(files.provenance)) {
        const statement = await readFile(files.provenance);
        const stored = await store.get(
          artifactKey('attestation', release, arch),
          ctx.signal ? { signal: ctx.signal } : {},
        );
        const existing = stored
          ? await readAll(stored)
          : await readFile(files.attestation).catch(() => undefined);
        const signed = await signStatement(signer, statement, existing);
        await writeFileAtomic(files.attestation, signed.bytes);
        ctx.log.info(
          `attestation ${signed.reused ? 'already signed (kept)' : 'signed'} → ${files.attestation}`,
          { arch },
        );
      }
      const upload: ArtifactFile[] = [];
      for (const u of UPLOADS) {
        if (await exists(files[u.file])) upload.push({ kind: u.kind, path: files[u.file] });
        else ctx.log.warn(`no ${u.kind} to upload (${files[u.file]})`, { arch });
      }
      const m = await uploadArtifacts(store, {
        image: release,
        arch,
        files: upload,
        sign: signer.signBlob,
        ...(signer.verifyBlob ? { verify: signer.verifyBlob } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      const count = { created: 0, unchanged: 0, replaced: 0 };
      for (const o of m.objects) {
        count[o.status]++;
        ctx.log.info(`${o.status.padEnd(9)} ${o.key} (${o.size} bytes, sha256:${o.sha256})`, { arch });
      }
      figures[arch] = { ...count, objects: m.objects.length };
      const summary = ctx.state.summary.get(arch) ?? {};
      summary.artifacts = m.objects
        .filter((o) => o.kind !== 'signature')
        .map((o) => `${store.description}/${o.key} (+.sig)`);
      ctx.state.summary.set(arch, summary);
    }
  } finally {
    await store.close();
  }
  return { status: 'ok', figures };
}
