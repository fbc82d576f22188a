/**
 * Files of attestations: `*.intoto.jsonl` (one DSSE envelope per line, as slsa-github-generator
 * writes `multiple.intoto.jsonl`) and Sigstore bundles (`.sigstore.json` = one bundle, possibly
 * pretty-printed; `.sigstore.jsonl` = one bundle per line). Errors name the file and line.
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { bundleFromJSON, type SerializedBundle } from '@sigstore/bundle';
import { VouchError } from '../errors.ts';
import { type Envelope, envelopeFromJson, MAX_ENVELOPE_BYTES } from './dsse.ts';

export type AttestationEntry =
  | {
      kind: 'envelope';
      /** 1-based line in the file. */
      line: number;
      envelope: Envelope;
      /**
       * PEM certificates some producers put next to each signature (`signatures[i].cert`, as
       * slsa-github-generator does); undefined where absent. Unverified: the caller checks them.
       */
      certificates: (string | undefined)[];
    }
  | {
      kind: 'bundle';
      line: number;
      /** The bundle JSON as read (checked against the Sigstore bundle schema). */
      bundle: SerializedBundle;
      content: 'message-signature' | 'dsse-envelope';
    };

export const ATTESTATION_FILE_FORMATS = ['intoto-jsonl', 'sigstore-json', 'sigstore-jsonl'] as const;
export type AttestationFileFormat = (typeof ATTESTATION_FILE_FORMATS)[number];

/** Largest attestation file read whole. */
export const MAX_ATTESTATION_FILE_BYTES = 256 * 1024 * 1024;

/** The format a file name implies, if any. */
export function formatFromName(name: string): AttestationFileFormat | undefined {
  const n = name.toLowerCase();
  if (n.endsWith('.intoto.jsonl')) return 'intoto-jsonl';
  if (n.endsWith('.sigstore.jsonl')) return 'sigstore-jsonl';
  if (n.endsWith('.sigstore.json') || n.endsWith('.sigstore')) return 'sigstore-json';
  return undefined;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(text: string, where: string, code: 'ENVELOPE_INVALID' | 'BUNDLE_INVALID'): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new VouchError(code, `${where}: not JSON: ${(e as Error).message}`);
  }
}

function toEnvelope(json: unknown, where: string, line: number): AttestationEntry {
  const envelope = envelopeFromJson(json, where);
  const sigs = (json as { signatures: unknown[] }).signatures;
  const certificates = sigs.map((s) => {
    const c = (s as Record<string, unknown>).cert;
    return typeof c === 'string' && c !== '' ? c : undefined;
  });
  return { kind: 'envelope', line, envelope, certificates };
}

function toBundle(json: unknown, where: string, line: number): AttestationEntry {
  if (!isObj(json)) throw new VouchError('BUNDLE_INVALID', `${where}: not a JSON object`);
  const mt = json.mediaType;
  if (typeof mt !== 'string' || !mt.startsWith('application/vnd.dev.sigstore.bundle')) {
    throw new VouchError(
      'BUNDLE_INVALID',
      `${where}: mediaType ${JSON.stringify(mt)} is not a Sigstore bundle media type`,
    );
  }
  try {
    bundleFromJSON(json);
  } catch (e) {
    const fields = (e as { fields?: unknown }).fields;
    const which = Array.isArray(fields) && fields.length > 0 ? ` (${fields.join(', ')})` : '';
    throw new VouchError('BUNDLE_INVALID', `${where}: ${(e as Error).message}${which}`, { cause: e });
  }
  const content = isObj(json.dsseEnvelope) ? 'dsse-envelope' : 'message-signature';
  return { kind: 'bundle', line, bundle: json as unknown as SerializedBundle, content };
}

/** Non-blank lines with their 1-based numbers; CRLF and a leading BOM are accepted. */
function lines(text: string): { line: number; text: string }[] {
  return text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map((t, i) => ({ line: i + 1, text: t.replace(/\r$/, '') }))
    .filter((l) => l.text.trim() !== '');
}

/** Parse the text of an attestation file; `name` (a path or file name) picks the format and names errors. */
export function parseAttestationFile(
  text: string,
  name: string,
  format: AttestationFileFormat | undefined = formatFromName(name),
): AttestationEntry[] {
  const file = basename(name);
  const fmt = format ?? sniff(text);
  if (fmt === 'sigstore-json') {
    const body = text.replace(/^\uFEFF/, '');
    const first = lines(body)[0]?.line ?? 1;
    return [toBundle(parseJson(body, file, 'BUNDLE_INVALID'), file, first)];
  }
  const all = lines(text);
  if (fmt === 'intoto-jsonl' && all.length > 1) {
    // One envelope spread over several lines (a pretty-printed `.intoto.json`) is read whole.
    const whole = tryJson(text.replace(/^\uFEFF/, ''));
    const first = all[0]?.line ?? 1;
    if (isObj(whole)) return [toEnvelope(whole, `${file}:${first}`, first)];
  }
  const entries = all.map(({ line, text: t }) => {
    const where = `${file}:${line}`;
    if (Buffer.byteLength(t) > MAX_ENVELOPE_BYTES) {
      throw new VouchError(
        fmt === 'intoto-jsonl' ? 'ENVELOPE_INVALID' : 'BUNDLE_INVALID',
        `${where}: line is over 64 MiB`,
      );
    }
    return fmt === 'intoto-jsonl'
      ? toEnvelope(parseJson(t, where, 'ENVELOPE_INVALID'), where, line)
      : toBundle(parseJson(t, where, 'BUNDLE_INVALID'), where, line);
  });
  if (entries.length === 0) {
    throw new VouchError(
      fmt === 'intoto-jsonl' ? 'ENVELOPE_INVALID' : 'BUNDLE_INVALID',
      `${file}: no attestations`,
    );
  }
  return entries;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // several documents, or broken: the line parser reports where
  }
}

/** A file without a telling name: one JSON document (a bundle) or lines of envelopes / bundles. */
function sniff(text: string): AttestationFileFormat {
  const whole = tryJson(text.replace(/^\uFEFF/, ''));
  if (isObj(whole)) return typeof whole.payloadType === 'string' ? 'intoto-jsonl' : 'sigstore-json';
  const first = tryJson(lines(text)[0]?.text ?? '');
  return isObj(first) && typeof first.mediaType === 'string' ? 'sigstore-jsonl' : 'intoto-jsonl';
}

/** Read and parse an attestation file (see parseAttestationFile). */
export async function readAttestationFile(
  path: string,
  format?: AttestationFileFormat,
): Promise<AttestationEntry[]> {
  let text: string;
  try {
    await using f = await open(path, 'r');
    const { size } = await f.stat();
    if (size > MAX_ATTESTATION_FILE_BYTES) {
      throw new VouchError(
        'IO_ERROR',
        `${path} is ${size} bytes, more than an attestation file may have (256 MiB)`,
      );
    }
    text = (await f.readFile()).toString('utf8');
  } catch (e) {
    if (e instanceof VouchError) throw e;
    const code = (e as { code?: string }).code;
    throw new VouchError(
      code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO_ERROR',
      `cannot read ${path}${code ? ` (${code})` : ''}`,
      { cause: e },
    );
  }
  return parseAttestationFile(text, path, format ?? formatFromName(path));
}
