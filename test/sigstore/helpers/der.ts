/**
 * Test support: just enough DER to build X.509 certificates with any SAN and extension, so the
 * verifier can be fed certificates no public CA would issue (look-alike emails, missing issuer
 * claims, roots inside chains). Definite lengths, minimal encodings, nothing else.
 */
import { createHash, type KeyObject, sign } from 'node:crypto';

export function tlv(tag: number, content: Uint8Array | Uint8Array[]): Buffer {
  const body = Array.isArray(content) ? Buffer.concat(content) : Buffer.from(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export const seq = (...items: Uint8Array[]): Buffer => tlv(0x30, items);
export const set = (...items: Uint8Array[]): Buffer => tlv(0x31, items);
export const octet = (b: Uint8Array): Buffer => tlv(0x04, b);
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
/** [n] EXPLICIT / constructed context tag. */
export const ctx = (n: number, ...items: Uint8Array[]): Buffer => tlv(0xa0 | n, items);
/** [n] IMPLICIT primitive context tag (GeneralName URI, rfc822Name). */
export const ctxPrim = (n: number, b: Uint8Array): Buffer => tlv(0x80 | n, b);

export function int(v: bigint | number): Buffer {
  let hex = BigInt(v).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(BigInt);
  const out: number[] = [];
  const push = (v: bigint) => {
    const groups: number[] = [Number(v & 0x7fn)];
    for (let x = v >> 7n; x > 0n; x >>= 7n) groups.unshift(Number(x & 0x7fn) | 0x80);
    out.push(...groups);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return tlv(0x06, Buffer.from(out));
}

/** BIT STRING from whole bytes, or from named bits (KeyUsage) with minimal unused bits. */
export function bitString(b: Uint8Array): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
}

export function namedBits(bits: number[]): Buffer {
  const max = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(max / 8) + 1);
  for (const bit of bits) bytes[Math.floor(bit / 8)]! |= 0x80 >> (bit % 8);
  const unused = 7 - (max % 8);
  return tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes]));
}

/** UTCTime before 2050, GeneralizedTime after (RFC 5280 4.1.2.5). */
export function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDhhmmss
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${iso}Z`));
}

/** A Name of `O=` and `CN=` (either may be omitted; Fulcio leaves have an empty subject). */
export function name(o: { cn?: string; org?: string }): Buffer {
  const rdns: Buffer[] = [];
  if (o.org !== undefined) rdns.push(set(seq(oid('2.5.4.10'), utf8(o.org))));
  if (o.cn !== undefined) rdns.push(set(seq(oid('2.5.4.3'), utf8(o.cn))));
  return seq(...rdns);
}

export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? seq(oid(id), bool(true), octet(value)) : seq(oid(id), octet(value));
}

export const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

export function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** Subject key identifier: SHA-1 of the key bits, as RFC 5280 4.2.1.2 (1) suggests. */
export function keyId(key: KeyObject): Buffer {
  return createHash('sha1').update(spki(key)).digest();
}

export interface TbsSpec {
  serial: bigint;
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  extensions: Buffer[];
}

export function tbs(s: TbsSpec): Buffer {
  return seq(
    ctx(0, int(2)),
    int(s.serial),
    ECDSA_SHA256,
    s.issuer,
    seq(time(s.notBefore), time(s.notAfter)),
    s.subject,
    spki(s.publicKey),
    ctx(3, seq(...s.extensions)),
  );
}

/** Sign a TBSCertificate with an EC P-256 key (ecdsa-with-SHA256). */
export function certificate(tbsDer: Buffer, issuerKey: KeyObject): Buffer {
  return seq(tbsDer, ECDSA_SHA256, bitString(sign('sha256', tbsDer, issuerKey)));
}

export function pem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
