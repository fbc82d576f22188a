/**
 * Independent implementations of the cosign key format for cross-checks (test support only):
 * Python (hashlib.scrypt + PyNaCl SecretBox + pyca/cryptography), Go (x/crypto scrypt and
 * nacl/secretbox + encoding/json over go-securesystemslib's struct layout), and openssl.
 * Missing tools skip their tests, except under CI where they fail.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a tool to completion; never through a shell. */
export function run(
  cmd: string,
  args: readonly string[],
  o: { env?: NodeJS.ProcessEnv; input?: string | Uint8Array; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const stdin = o.input === undefined ? 'ignore' : 'pipe';
    const p = spawn(cmd, args, { env: o.env ?? process.env, cwd: o.cwd, stdio: [stdin, 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    p.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (o.input !== undefined) {
      p.stdin?.on('error', () => {}); // a tool that exits without reading its input
      p.stdin?.end(o.input);
    }
  });
}

/** run() that must succeed; returns stdout. */
export async function runOk(
  cmd: string,
  args: readonly string[],
  o: Parameters<typeof run>[2] = {},
): Promise<string> {
  const r = await run(cmd, args, o);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
  return r.stdout;
}

/** Skip with `reason` when `ok` is false; under CI a missing oracle is a failure instead. */
export function need(t: TestContext, ok: boolean, reason: string): boolean {
  if (ok) return true;
  if (process.env.CI) assert.fail(`${reason} (CI is set, so this cannot be skipped)`);
  t.skip(reason);
  return false;
}

export async function tempDir(
  prefix: string,
): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `vouch-${prefix}-`));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

export async function haveOpenssl(): Promise<boolean> {
  return (await run('openssl', ['version']).catch(() => ({ code: -1 }))).code === 0;
}

/**
 * A python3 with PyNaCl and cryptography. pyenv and venvs often shadow Debian's interpreter,
 * so /usr/bin/python3 (where python3-nacl installs) is tried too.
 */
export async function findPython(): Promise<string | undefined> {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = await run(py, ['-c', 'import nacl.secret, cryptography']).catch(() => ({ code: -1 }));
    if (r.code === 0) return py;
  }
  return undefined;
}

/**
 * The Python oracle. `decrypt FILE` (passphrase in $PASS) prints the key's SPKI PEM;
 * `encrypt PLAIN_PEM N LABEL` (passphrase in $PASS) prints a cosign key file.
 */
const PYTHON = String.raw`
import base64, hashlib, json, os, sys
from nacl.secret import SecretBox
from cryptography.hazmat.primitives import serialization as s

def pem_body(text):
    lines = [l.strip() for l in text.strip().splitlines()]
    assert lines[0].startswith('-----BEGIN ') and lines[-1].startswith('-----END '), 'not PEM'
    return lines[0][11:-5], base64.b64decode(''.join(lines[1:-1]), validate=True)

def kdf(passphrase, salt, n, r, p):
    return hashlib.scrypt(passphrase, salt=salt, n=n, r=r, p=p, maxmem=512 * 1024 * 1024, dklen=32)

def decrypt(path):
    label, body = pem_body(open(path).read())
    assert label in ('ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'), label
    d = json.loads(body)
    assert d['kdf']['name'] == 'scrypt' and d['cipher']['name'] == 'nacl/secretbox'
    prm = d['kdf']['params']
    key = kdf(os.environb[b'PASS'], base64.b64decode(d['kdf']['salt']), prm['N'], prm['r'], prm['p'])
    der = SecretBox(key).decrypt(base64.b64decode(d['ciphertext']), base64.b64decode(d['cipher']['nonce']))
    priv = s.load_der_private_key(der, password=None)
    sys.stdout.write(priv.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode())

def encrypt(plain_path, n, label):
    priv = s.load_pem_private_key(open(plain_path, 'rb').read(), password=None)
    der = priv.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption())
    salt, nonce = os.urandom(32), os.urandom(24)
    box = SecretBox(kdf(os.environb[b'PASS'], salt, n, 8, 1)).encrypt(der, nonce)
    doc = {'kdf': {'name': 'scrypt', 'params': {'N': n, 'r': 8, 'p': 1}, 'salt': base64.b64encode(salt).decode()},
           'cipher': {'name': 'nacl/secretbox', 'nonce': base64.b64encode(nonce).decode()},
           'ciphertext': base64.b64encode(box.ciphertext).decode()}
    b64 = base64.b64encode(json.dumps(doc, separators=(',', ':')).encode()).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    sys.stdout.write('-----BEGIN %s-----\n%s\n-----END %s-----\n' % (label, '\n'.join(lines), label))

if sys.argv[1] == 'decrypt':
    decrypt(sys.argv[2])
else:
    encrypt(sys.argv[2], int(sys.argv[3]), sys.argv[4])
`;

export interface PythonOracle {
  /** SPKI PEM of the key in a cosign key file. */
  decrypt(file: string, passphrase: string): Promise<string>;
  /** A cosign key file holding the plain PEM key in `plainFile`. */
  encrypt(plainFile: string, passphrase: string, n: number, label: string): Promise<string>;
}

export async function pythonOracle(python: string, dir: string): Promise<PythonOracle> {
  const script = join(dir, 'oracle.py');
  await writeFile(script, PYTHON);
  const env = (pass: string) => ({ ...process.env, PASS: pass });
  return {
    decrypt: (file, pass) => runOk(python, [script, 'decrypt', file], { env: env(pass) }),
    encrypt: (plain, pass, n, label) =>
      runOk(python, [script, 'encrypt', plain, String(n), label], { env: env(pass) }),
  };
}

/** Debian's golang-golang-x-crypto-dev: the packages go-securesystemslib builds on. */
const X_CRYPTO = '/usr/share/gocode/src/golang.org/x/crypto';

/**
 * The Go oracle, in GOPATH mode over Debian's sources (no module download). The structs mirror
 * go-securesystemslib's encrypted package field for field, so json.Marshal writes what cosign writes.
 *   decrypt FILE  (PASS env): unmarshal, check as go-securesystemslib does, open, parse PKCS#8;
 *                 prints the re-marshalled JSON, then the SPKI PEM.
 *   generate DIR  (PASS env): a new P-256 key as cosign.key / cosign.pub, and DIR/sig = an ASN.1
 *                 ECDSA signature over SHA-256("signed in go").
 */
const GO = `package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

type params struct {
	N int ~json:"N"~
	R int ~json:"r"~
	P int ~json:"p"~
}
type kdf struct {
	Name   string ~json:"name"~
	Params params ~json:"params"~
	Salt   []byte ~json:"salt"~
}
type cipher struct {
	Name  string ~json:"name"~
	Nonce []byte ~json:"nonce"~
}
type data struct {
	KDF        kdf    ~json:"kdf"~
	Cipher     cipher ~json:"cipher"~
	Ciphertext []byte ~json:"ciphertext"~
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func boxKey(pass []byte, k kdf) *[32]byte {
	b, err := scrypt.Key(pass, k.Salt, k.Params.N, k.Params.R, k.Params.P, 32)
	must(err)
	var key [32]byte
	copy(key[:], b)
	return &key
}

func main() {
	pass := []byte(os.Getenv("PASS"))
	switch os.Args[1] {
	case "decrypt":
		raw, err := os.ReadFile(os.Args[2])
		must(err)
		block, _ := pem.Decode(raw)
		if block == nil || (block.Type != "ENCRYPTED SIGSTORE PRIVATE KEY" && block.Type != "ENCRYPTED COSIGN PRIVATE KEY") {
			must(fmt.Errorf("not a cosign key"))
		}
		var d data
		must(json.Unmarshal(block.Bytes, &d))
		if d.KDF.Name != "scrypt" || d.Cipher.Name != "nacl/secretbox" || d.KDF.Params.R != 8 || d.KDF.Params.P != 1 ||
			(d.KDF.Params.N != 32768 && d.KDF.Params.N != 65536 && d.KDF.Params.N != 131072) || len(d.Cipher.Nonce) != 24 {
			must(fmt.Errorf("unsupported parameters"))
		}
		var nonce [24]byte
		copy(nonce[:], d.Cipher.Nonce)
		der, ok := secretbox.Open(nil, d.Ciphertext, &nonce, boxKey(pass, d.KDF))
		if !ok {
			must(fmt.Errorf("decryption failed"))
		}
		priv, err := x509.ParsePKCS8PrivateKey(der)
		must(err)
		spki, err := x509.MarshalPKIXPublicKey(priv.(crypto.Signer).Public())
		must(err)
		again, err := json.Marshal(d)
		must(err)
		fmt.Println(string(again))
		os.Stdout.Write(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}))
	case "generate":
		dir := os.Args[2]
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		must(err)
		d := data{KDF: kdf{Name: "scrypt", Params: params{N: 65536, R: 8, P: 1}, Salt: make([]byte, 32)},
			Cipher: cipher{Name: "nacl/secretbox", Nonce: make([]byte, 24)}}
		_, err = rand.Read(d.KDF.Salt)
		must(err)
		_, err = rand.Read(d.Cipher.Nonce)
		must(err)
		var nonce [24]byte
		copy(nonce[:], d.Cipher.Nonce)
		d.Ciphertext = secretbox.Seal(nil, der, &nonce, boxKey(pass, d.KDF))
		body, err := json.Marshal(d)
		must(err)
		must(os.WriteFile(filepath.Join(dir, "cosign.key"),
			pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: body}), 0o600))
		spki, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		must(err)
		must(os.WriteFile(filepath.Join(dir, "cosign.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}), 0o644))
		digest := sha256.Sum256([]byte("signed in go"))
		sig, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
		must(err)
		must(os.WriteFile(filepath.Join(dir, "sig"), sig, 0o644))
	}
}
`;

export interface GoOracle {
  /** The JSON Go re-marshals from the file, and the key's SPKI PEM. */
  decrypt(file: string, passphrase: string): Promise<{ json: string; publicPem: string }>;
  /** Writes cosign.key, cosign.pub and sig (over "signed in go") into `dir`. */
  generate(dir: string, passphrase: string): Promise<void>;
}

/** Builds the Go oracle, or undefined when go or x/crypto is missing. */
export async function goOracle(dir: string): Promise<GoOracle | undefined> {
  if (!existsSync(X_CRYPTO)) return undefined;
  if ((await run('go', ['version']).catch(() => ({ code: -1 }))).code !== 0) return undefined;
  const src = join(dir, 'oracle.go');
  const bin = join(dir, 'oracle');
  // ~ stands for the backquotes of Go struct tags, which a template literal cannot hold
  await writeFile(src, GO.replaceAll('~', '`'));
  const env = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOFLAGS: '' };
  await runOk('go', ['build', '-o', bin, src], { env });
  const withPass = (pass: string) => ({ ...process.env, PASS: pass });
  return {
    async decrypt(file, pass) {
      const out = await runOk(bin, ['decrypt', file], { env: withPass(pass) });
      const nl = out.indexOf('\n');
      return { json: out.slice(0, nl), publicPem: out.slice(nl + 1) };
    },
    async generate(d, pass) {
      await runOk(bin, ['generate', d], { env: withPass(pass) });
    },
  };
}
