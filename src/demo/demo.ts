/**
 * The main job for now: carry the bundled example image through everything vouch does today,
 * with no network and no daemon, and say where each result landed.
 */
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assembleImage } from '../build/assemble.ts';
import { flattenImage } from '../build/flatten.ts';
import { layerFromDirectory } from '../build/layer.ts';
import { copyImage } from '../copy/copy.ts';
import { digestHex } from '../digest/digest.ts';
import { isVouchError } from '../errors.ts';
import { extractMerged } from '../fs/extract.ts';
import { openMergedView } from '../fs/merged.ts';
import { describeImage, openImage } from '../image/describe.ts';
import type { ContainerConfig, Descriptor } from '../oci/types.ts';
import { openDestination, openSource } from '../transport/open.ts';

export const EXAMPLE_DIR = resolve(fileURLToPath(new URL('../../examples/hello', import.meta.url)));

interface ExampleSpec {
  name: string;
  version: string;
  architecture: string;
  os: string;
  layers: { dir: string; prefix: string; uid?: number; gid?: number }[];
  config: ContainerConfig;
}

export interface DemoOptions {
  /** Where everything lands (created; replaced if it holds an earlier demo). */
  workDir: string;
  exampleDir?: string;
  /** Reproducibility clock (default $SOURCE_DATE_EPOCH, else 1700000000). */
  sourceDateEpoch?: number;
  log: (line: string) => void;
}

export interface DemoResult {
  image: string;
  digest: string;
  reproducible: boolean;
  flattened: string;
  archives: { oci: string; docker: string };
  rootfs: string;
  tamperRejected: string;
}

/** Build the example from its spec into `dest` (an image name) and return the manifest descriptor. */
export async function buildExample(
  exampleDir: string,
  dest: string,
  workDir: string,
  sourceDateEpoch: number,
): Promise<Descriptor> {
  const spec = JSON.parse(await readFile(join(exampleDir, 'image.json'), 'utf8')) as ExampleSpec;
  await mkdir(workDir, { recursive: true });
  const layers = [];
  for (const [i, l] of spec.layers.entries()) {
    const r = await layerFromDirectory(join(exampleDir, l.dir), {
      compression: 'gzip',
      output: join(workDir, `layer-${i}.tar.gz`),
      sourceDateEpoch,
      prefix: l.prefix,
      ...(l.uid === undefined ? {} : { uid: l.uid }),
      ...(l.gid === undefined ? {} : { gid: l.gid }),
    });
    layers.push({
      ...r,
      history: { created: iso(sourceDateEpoch), created_by: `vouch: add ${l.dir}/ as /${l.prefix}` },
    });
  }
  const dst = await openDestination(dest);
  try {
    const out = await assembleImage(dst, {
      layers,
      config: {
        architecture: spec.architecture,
        os: spec.os,
        created: iso(sourceDateEpoch),
        config: spec.config,
      },
      annotations: {
        'org.opencontainers.image.title': spec.name,
        'org.opencontainers.image.version': spec.version,
      },
    });
    await dst.commit(out.descriptor);
    return out.descriptor;
  } finally {
    await dst.close();
  }
}

function iso(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const log = o.log;
  const example = o.exampleDir ?? EXAMPLE_DIR;
  const epoch = o.sourceDateEpoch ?? Number(process.env.SOURCE_DATE_EPOCH ?? 1700000000);
  const w = resolve(o.workDir);
  await rm(w, { recursive: true, force: true });
  await mkdir(w, { recursive: true });
  const tag = '1.0.0-amd64';
  const image = `oci:${join(w, 'layout')}:${tag}`;

  log(`1. build   ${example} → ${image}`);
  const built = await buildExample(example, image, join(w, 'work-1'), epoch);
  log(`           manifest ${built.digest}`);
  const again = await buildExample(example, `oci:${join(w, 'rebuild')}:${tag}`, join(w, 'work-2'), epoch);
  const reproducible = again.digest === built.digest;
  log(
    `           rebuilt from scratch: ${reproducible ? 'identical digest (reproducible)' : `DIFFERENT digest ${again.digest}`}`,
  );
  await rm(join(w, 'rebuild'), { recursive: true, force: true });
  await rm(join(w, 'work-1'), { recursive: true, force: true });
  await rm(join(w, 'work-2'), { recursive: true, force: true });

  log('2. inspect');
  const src = await openSource(image);
  const d = await describeImage(src);
  log(
    `           ${d.platform}, user ${d.config.user}, entrypoint ${JSON.stringify(d.config.entrypoint)}, ${d.layers.length} layers, ${d.size} bytes`,
  );

  log('3. flatten');
  const flat = `oci:${join(w, 'flat')}:${tag}`;
  const { image: img } = await openImage(src);
  const fdst = await openDestination(flat);
  const fr = await flattenImage(img, fdst);
  await fdst.commit(fr.descriptor);
  await fdst.close();
  const fd = await describeImage(await openSource(flat));
  const kept = JSON.stringify(fd.config) === JSON.stringify(d.config);
  log(
    `           ${fr.before.layers} layers, ${fr.before.size} B → ${fr.after.layers} layer, ${fr.after.size} B; config kept: ${kept ? 'yes' : 'NO'}`,
  );

  log('4. copy    to an oci-archive and a docker-archive, then back');
  const ociTar = join(w, 'hello.oci.tar');
  const dockerTar = join(w, 'hello.docker.tar');
  await copyAndClose(image, `oci-archive:${ociTar}:${tag}`);
  await copyAndClose(image, `docker-archive:${dockerTar}:example/hello:${tag}`);
  const fromOci = await describeImage(await openSource(`oci-archive:${ociTar}:${tag}`));
  const fromDocker = await describeImage(await openSource(`docker-archive:${dockerTar}`));
  log(`           oci-archive digest ${fromOci.digest === d.digest ? 'unchanged' : 'CHANGED'}`);
  const sameLayers =
    JSON.stringify(fromDocker.layers.map((l) => l.diffId)) === JSON.stringify(d.layers.map((l) => l.diffId));
  log(
    `           docker-archive: same diff_ids ${sameLayers ? 'yes' : 'NO'}, config kept ${JSON.stringify(fromDocker.config) === JSON.stringify(d.config) ? 'yes' : 'NO'}`,
  );

  log('5. extract the merged filesystem safely');
  const rootfs = join(w, 'rootfs');
  const view = await openMergedView(
    img.layers.map((l) => ({ digest: l.descriptor.digest, open: () => l.openUncompressed() })),
  );
  const ex = await extractMerged(view, rootfs);
  await view.close();
  log(
    `           ${ex.written} entries, ${ex.bytes} bytes → ${rootfs} (${(await readdir(rootfs)).join(', ')})`,
  );
  await src.close();

  log('6. tamper  flip one byte of a layer in a copy of the layout, then copy it');
  const tampered = join(w, 'tampered');
  await cp(join(w, 'layout'), tampered, { recursive: true });
  const victim = join(tampered, 'blobs', 'sha256', digestHex(d.layers[0]!.digest));
  const bytes = await readFile(victim);
  bytes[bytes.length >> 1]! ^= 0x01;
  await writeFile(victim, bytes);
  let rejected = '';
  try {
    await copyAndClose(`oci:${tampered}:${tag}`, `oci:${join(w, 'should-not-exist')}:${tag}`);
  } catch (e) {
    if (!isVouchError(e)) throw e;
    rejected = `${e.code}: ${e.message}`;
  }
  await rm(join(w, 'should-not-exist'), { recursive: true, force: true });
  log(`           ${rejected ? `rejected (${rejected})` : 'NOT REJECTED'}`);

  return {
    image,
    digest: d.digest,
    reproducible,
    flattened: flat,
    archives: { oci: ociTar, docker: dockerTar },
    rootfs,
    tamperRejected: rejected,
  };
}

async function copyAndClose(from: string, to: string): Promise<void> {
  const s = await openSource(from);
  const t = await openDestination(to);
  try {
    await copyImage(s, t);
  } finally {
    await t.close();
    await s.close();
  }
}
