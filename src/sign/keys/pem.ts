/**
 * PEM text (RFC 7468, with RFC 1421 headers as OpenSSL's legacy encrypted keys use them):
 * split into blocks, decode strictly, encode as Go's encoding/pem does (64-column lines).
 */
import { VouchError } from '../../errors.ts';

export interface PemBlock {
  /** The label: `PRIVATE KEY`, `ENCRYPTED SIGSTORE PRIVATE KEY`, `CERTIFICATE`, ... */
  type: string;
  /** RFC 1421 headers (`Proc-Type`, `DEK-Info`), empty for RFC 7468 blocks. */
  headers: Readonly<Record<string, string>>;
  der: Buffer;
  /** The block's own text, BEGIN to END line: what OpenSSL needs for legacy encrypted keys. */
  text: string;
}

const BEGIN = /-----BEGIN ([^\r\n-]+(?:-[^\r\n-]+)*)-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Every PEM block in `text`, in order. Text between blocks is ignored (as Go and OpenSSL do);
 * a block without its END line or with bad base64 is KEY_INVALID naming `what`.
 */
export function parsePem(text: string, what: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  BEGIN.lastIndex = 0;
  for (let m = BEGIN.exec(text); m !== null; m = BEGIN.exec(text)) {
    const type = m[1] ?? '';
    const endLine = `-----END ${type}-----`;
    const bodyStart = m.index + m[0].length;
    const end = text.indexOf(endLine, bodyStart);
    if (end < 0) {
      throw new VouchError('KEY_INVALID', `${what}: the ${type} block has no "${endLine}" line (truncated?)`);
    }
    const { headers, base64 } = splitBody(text.slice(bodyStart, end), type, what);
    blocks.push({
      type,
      headers,
      der: Buffer.from(base64, 'base64'),
      text: text.slice(m.index, end + endLine.length),
    });
    BEGIN.lastIndex = end + endLine.length;
  }
  return blocks;
}

function splitBody(
  body: string,
  type: string,
  what: string,
): { headers: Record<string, string>; base64: string } {
  const lines = body.split(/\r?\n/).map((l) => l.trim());
  const headers: Record<string, string> = {};
  // RFC 1421: "Name: value" lines, then a blank line, then the base64.
  let i = lines[0] === '' ? 1 : 0;
  if (lines[i]?.includes(':')) {
    for (; i < lines.length && lines[i] !== ''; i++) {
      const line = lines[i] ?? '';
      const colon = line.indexOf(':');
      if (colon <= 0)
        throw new VouchError('KEY_INVALID', `${what}: malformed header line in the ${type} block`);
      headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    }
  }
  const base64 = lines.slice(i).join('');
  if (base64.length === 0) throw new VouchError('KEY_INVALID', `${what}: the ${type} block is empty`);
  if (!BASE64.test(base64) || base64.length % 4 !== 0) {
    throw new VouchError('KEY_INVALID', `${what}: the ${type} block is not valid base64`);
  }
  return { headers, base64 };
}

/** PEM as Go's pem.EncodeToMemory writes it: 64-column base64 lines, trailing newline. */
export function encodePem(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}
