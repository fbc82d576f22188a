/**
 * `vouch.yaml`: read, validate against PIPELINE_SCHEMA, then the rules a schema cannot say
 * (base pinned by digest, no `latest`). Every error names the field and its line:column.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { VouchError } from '../errors.ts';
import { parseReference } from '../oci/reference.ts';
import { type ARCHITECTURES, PIPELINE_SCHEMA, STAGES, type Stage } from './schema.ts';

export type Architecture = (typeof ARCHITECTURES)[number];
export type Severity = 'UNKNOWN' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

export interface LayerSpec {
  /** Absolute path on this machine (resolved against the config file's directory). */
  source: string;
  /** Absolute path in the image. */
  target: string;
  uid?: number;
  gid?: number;
  mode?: number;
}

export interface PipelineConfig {
  /** The file it came from (absolute). */
  file: string;
  image: { name: string; version: string; architectures: Architecture[] };
  /** `scratch`, or an image reference pinned by digest. */
  base: { image: string; digest: string | undefined };
  layers: LayerSpec[];
  config: {
    user?: string;
    env: Record<string, string>;
    entrypoint?: string[];
    cmd?: string[];
    workdir?: string;
    ports: string[];
    volumes: string[];
    stopSignal?: string;
    labels: Record<string, string>;
  };
  harden: { removePackageManagers: boolean; removeDocs: boolean; removeCaches: boolean; user: string };
  tests: { files: { path: string; mode?: number; uid?: number; gid?: number; absent: boolean }[] };
  gate: { severities: Severity[]; ignoreUnfixed: boolean; ignoreFile?: string; vex: string[]; db?: string };
  signing:
    | { kind: 'key'; key: string; storage: 'tag' | 'referrers' }
    | {
        kind: 'keyless';
        fulcioUrl?: string;
        rekorUrl?: string;
        tsaUrl?: string;
        storage: 'tag' | 'referrers';
      }
    | { kind: 'none' };
  store:
    | { kind: 'directory'; directory: string }
    | {
        kind: 's3';
        endpoint?: string;
        bucket: string;
        prefix: string;
        region?: string;
        forcePathStyle: boolean;
      };
  stages: Stage[];
  /** Where `push` publishes when not the registry of image.name: an OCI layout directory. */
  target?: { kind: 'layout'; dir: string };
}

/** The non-root user hardening sets when the file names none (the "nonroot" uid of distroless). */
export const DEFAULT_USER = '65532:65532';

let validator: ReturnType<Ajv['compile']> | undefined;
function validate(): ReturnType<Ajv['compile']> {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(PIPELINE_SCHEMA);
  return validator;
}

export async function loadPipelineConfig(path: string): Promise<PipelineConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VouchError(
      code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO_ERROR',
      `cannot read ${path}: ${code ?? e}`,
      {
        hint: code === 'ENOENT' ? 'create one with `vouch init`' : undefined,
      },
    );
  }
  return parsePipelineConfig(text, file);
}

/** Parse and check the text of a vouch.yaml; `file` locates relative paths and names errors. */
export function parsePipelineConfig(text: string, file: string): PipelineConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): string => {
    const p = lines.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new VouchError('PIPELINE_CONFIG_INVALID', `${at(e?.pos[0] ?? 0)}: ${e?.message.split('\n')[0]}`);
  }
  const data: unknown = doc.toJS();
  const check = validate();
  if (!check(data)) {
    const problems = (check.errors ?? []).filter(meaningful).map((err) => {
      const path = pointer(err);
      const node = nodeAt(doc.contents, path);
      const where = node?.range ? at(node.range[0]) : file;
      return `${where}: ${path.join('.') || '(top level)'} ${explain(err)}`;
    });
    throw new VouchError(
      'PIPELINE_CONFIG_INVALID',
      `${file} is not a valid vouch.yaml:\n  ${problems.join('\n  ')}`,
    );
  }
  const raw = data as RawConfig;
  const posOf = (path: (string | number)[]): string => {
    const node = nodeAt(doc.contents, path);
    return node?.range ? at(node.range[0]) : file;
  };
  return normalise(raw, file, posOf);
}

type RawConfig = {
  image: { name: string; version: string; architectures?: Architecture[] };
  base: { image: string };
  layers?: { source: string; target: string; owner?: string; mode?: string }[];
  config?: {
    user?: string;
    env?: Record<string, string>;
    entrypoint?: string[];
    cmd?: string[];
    workdir?: string;
    ports?: string[];
    volumes?: string[];
    stopSignal?: string;
    labels?: Record<string, string>;
  };
  harden?: { removePackageManagers?: boolean; removeDocs?: boolean; removeCaches?: boolean; user?: string };
  tests?: { files?: { path: string; mode?: string; owner?: string; absent?: boolean }[] };
  gate?: {
    severities?: Severity[];
    ignoreUnfixed?: boolean;
    ignoreFile?: string;
    vex?: string[];
    db?: string;
  };
  signing?: {
    key?: string;
    keyless?: { fulcioUrl?: string; rekorUrl?: string; tsaUrl?: string };
    storage?: 'tag' | 'referrers';
  };
  store?: {
    directory?: string;
    s3?: { endpoint?: string; bucket: string; prefix?: string; region?: string; forcePathStyle?: boolean };
  };
  stages?: Stage[];
  target?: string;
};

function normalise(raw: RawConfig, file: string, posOf: (p: (string | number)[]) => string): PipelineConfig {
  const dir = dirname(file);
  const rel = (p: string): string => resolve(dir, p);
  const base = pinnedBase(raw.base.image, posOf(['base', 'image']));
  const name = raw.image.name;
  try {
    const ref = parseReference(name);
    if (ref.tag !== undefined && name.endsWith(`:${ref.tag}`)) {
      throw new VouchError(
        'PIPELINE_CONFIG_INVALID',
        `${posOf(['image', 'name'])}: image.name must not carry a tag`,
        {
          hint: 'the tag is {version}-{arch}, made from image.version',
        },
      );
    }
  } catch (e) {
    if (e instanceof VouchError && e.code === 'PIPELINE_CONFIG_INVALID') throw e;
    throw new VouchError(
      'PIPELINE_CONFIG_INVALID',
      `${posOf(['image', 'name'])}: image.name: ${(e as Error).message}`,
    );
  }
  const c = raw.config ?? {};
  const signing: PipelineConfig['signing'] = raw.signing?.key
    ? { kind: 'key', key: rel(raw.signing.key), storage: raw.signing.storage ?? 'tag' }
    : raw.signing?.keyless
      ? { kind: 'keyless', ...raw.signing.keyless, storage: raw.signing.storage ?? 'referrers' }
      : { kind: 'none' };
  const s3 = raw.store?.s3;
  return {
    file,
    image: { name, version: raw.image.version, architectures: raw.image.architectures ?? ['amd64'] },
    base,
    layers: (raw.layers ?? []).map((l) => ({
      source: rel(l.source),
      target: l.target,
      ...owner(l.owner),
      ...(l.mode ? { mode: Number.parseInt(l.mode, 8) } : {}),
    })),
    config: {
      ...(c.user ? { user: c.user } : {}),
      env: c.env ?? {},
      ...(c.entrypoint ? { entrypoint: c.entrypoint } : {}),
      ...(c.cmd ? { cmd: c.cmd } : {}),
      ...(c.workdir ? { workdir: c.workdir } : {}),
      ports: c.ports ?? [],
      volumes: c.volumes ?? [],
      ...(c.stopSignal ? { stopSignal: c.stopSignal } : {}),
      labels: c.labels ?? {},
    },
    harden: {
      removePackageManagers: raw.harden?.removePackageManagers ?? true,
      removeDocs: raw.harden?.removeDocs ?? true,
      removeCaches: raw.harden?.removeCaches ?? true,
      user: raw.harden?.user ?? c.user ?? DEFAULT_USER,
    },
    tests: {
      files: (raw.tests?.files ?? []).map((f) => ({
        path: f.path,
        ...(f.mode ? { mode: Number.parseInt(f.mode, 8) } : {}),
        ...owner(f.owner),
        absent: f.absent ?? false,
      })),
    },
    gate: {
      severities: raw.gate?.severities ?? ['HIGH', 'CRITICAL'],
      ignoreUnfixed: raw.gate?.ignoreUnfixed ?? true,
      ...(raw.gate?.ignoreFile ? { ignoreFile: rel(raw.gate.ignoreFile) } : {}),
      vex: (raw.gate?.vex ?? []).map(rel),
      ...(raw.gate?.db ? { db: rel(raw.gate.db) } : {}),
    },
    signing,
    store: s3
      ? {
          kind: 's3',
          bucket: s3.bucket,
          prefix: s3.prefix ?? '',
          forcePathStyle: s3.forcePathStyle ?? true,
          ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
          ...(s3.region ? { region: s3.region } : {}),
        }
      : { kind: 'directory', directory: rel(raw.store?.directory ?? 'vouch-artifacts') },
    stages: raw.stages ?? [...STAGES],
    ...(raw.target ? { target: { kind: 'layout' as const, dir: rel(raw.target.slice('oci:'.length)) } } : {}),
  };
}

/** The base must be `scratch` or pinned by digest; a tag alone (worst of all `latest`) is refused. */
function pinnedBase(image: string, where: string): PipelineConfig['base'] {
  if (image === 'scratch') return { image, digest: undefined };
  const m = /@(sha256:[0-9a-f]{64})$/.exec(image);
  if (!m?.[1]) {
    const latest = /:latest$/.test(image) || !/[:@][^/]+$/.test(image);
    throw new VouchError(
      'PIPELINE_CONFIG_INVALID',
      `${where}: base.image "${image}" is not pinned by digest${latest ? ' (it names latest)' : ''}`,
      { hint: 'write NAME@sha256:<digest> (find it with `vouch inspect NAME:TAG`), or scratch' },
    );
  }
  return { image, digest: m[1] };
}

function owner(s: string | undefined): { uid?: number; gid?: number } {
  if (!s) return {};
  const [u, g] = s.split(':');
  return { uid: Number(u), gid: Number(g ?? u) };
}

/** `if`/`not` wrapper errors repeat a more precise one. */
function meaningful(e: ErrorObject): boolean {
  return e.keyword !== 'if';
}

function pointer(e: ErrorObject): (string | number)[] {
  const parts = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  if (e.keyword === 'additionalProperties') parts.push(String(e.params.additionalProperty));
  return parts;
}

function explain(e: ErrorObject): string {
  switch (e.keyword) {
    case 'additionalProperties':
      return 'is not a known field';
    case 'required':
      return `needs the field "${String(e.params.missingProperty)}"`;
    case 'enum':
      return `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(e.params.allowedValue)}`;
    case 'not':
      return e.instancePath.endsWith('version')
        ? 'must not be "latest"'
        : 'sets fields that exclude each other';
    default:
      return e.message ?? e.keyword;
  }
}

/** The YAML node at a path, or the nearest ancestor that exists (for missing fields). */
function nodeAt(root: unknown, path: (string | number)[]): Node | undefined {
  let node = root as Node | undefined;
  for (const key of path) {
    if (!node || !(isMap(node) || 'items' in node)) return node;
    const coll = node as unknown as { get(k: unknown, keepScalar: true): unknown; items: unknown[] };
    const next = isMap(node)
      ? (node.items.find((p) => isScalar(p.key) && p.key.value === key)?.key as Node | undefined)
      : undefined;
    const value = coll.get(key, true) as Node | undefined;
    // for a key that is itself wrong (unknown field) point at the key; else at the value
    node = key === path.at(-1) && next ? next : (value ?? node);
  }
  return node;
}
