import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { requireBinary } from '../../../test/helpers/registry.ts';
import { type Digest, digestOf } from '../../digest/digest.ts';
import { isVouchError } from '../../errors.ts';
import {
  COSIGN_SIGN_PREDICATE_TYPE,
  checkSimpleSigning,
  checkStatementSubject,
  claimsFromStatement,
  cosignSignStatement,
  simpleSigningPayload,
} from './payload.ts';

const run = promisify(execFile);
const D = digestOf('image manifest');
const OTHER = digestOf('another image');

test('the payload without annotations is byte for byte what cosign signs', () => {
  assert.equal(
    Buffer.from(simpleSigningPayload('registry.example/team/app', D)).toString(),
    `{"critical":{"identity":{"docker-reference":"registry.example/team/app"},"image":{"docker-manifest-digest":"${D}"},"type":"cosign container image signature"},"optional":null}`,
  );
});

test('annotations become `optional`, keys sorted and HTML characters escaped as Go does', () => {
  const text = Buffer.from(
    simpleSigningPayload('r/app', D, { zeta: '1', 'a<b>': 'x&y', ünï: 'ç\u2028' }),
  ).toString();
  assert.ok(text.endsWith('"optional":{"a\\u003cb\\u003e":"x\\u0026y","zeta":"1","ünï":"ç\\u2028"}}'), text);
});

// Go's own json.Marshal over the struct sigstore's payload.go defines (same field order and tags).
const GO_ORACLE = `package main

import (
	"encoding/json"
	"os"
)

type Critical struct {
	Identity struct {
		DockerReference string \`json:"docker-reference"\`
	} \`json:"identity"\`
	Image struct {
		DockerManifestDigest string \`json:"docker-manifest-digest"\`
	} \`json:"image"\`
	Type string \`json:"type"\`
}

type SimpleContainerImage struct {
	Critical Critical               \`json:"critical"\`
	Optional map[string]interface{} \`json:"optional"\`
}

func main() {
	var in struct {
		Ref         string
		Digest      string
		Annotations map[string]interface{}
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	var p SimpleContainerImage
	p.Critical.Identity.DockerReference = in.Ref
	p.Critical.Image.DockerManifestDigest = in.Digest
	p.Critical.Type = "cosign container image signature"
	p.Optional = in.Annotations
	out, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(out)
}
`;

test('payload bytes equal Go json.Marshal output (oracle)', { skip: await requireBinary('go') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-payload-go-'));
  try {
    const main = join(dir, 'oracle.go');
    await writeFile(main, GO_ORACLE);
    const env = { ...process.env, GO111MODULE: 'off', GOFLAGS: '', GOCACHE: join(dir, 'cache'), GOPATH: dir };
    const bin = join(dir, 'oracle');
    await run('go', ['build', '-o', bin, main], { env });
    const cases: [string, Digest, Record<string, string> | undefined][] = [
      ['index.docker.io/library/debian', D, undefined],
      [
        '127.0.0.1:5000/team/app',
        OTHER,
        { env: 'prod', 'a<b>': 'x&y', z: '"quoted"\\', é: 'ü\u2029', '': '' },
      ],
      ['ghcr.io/o/r', D, { tab: 'a\tb\n', ctl: '\u0001\u007f', emoji: '🙂' }],
    ];
    for (const [ref, digest, annotations] of cases) {
      const child = run(bin, [], { env });
      child.child.stdin?.end(JSON.stringify({ Ref: ref, Digest: digest, Annotations: annotations ?? null }));
      const { stdout } = await child;
      assert.equal(Buffer.from(simpleSigningPayload(ref, digest, annotations)).toString(), stdout);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('checkSimpleSigning accepts cosign and skopeo payloads for the image and names what it found', () => {
  const p = checkSimpleSigning(simpleSigningPayload('r/app', D, { k: 'v' }), D, 'sig');
  assert.deepEqual(p.optional, { k: 'v' });
  assert.equal(p.critical.identity['docker-reference'], 'r/app');
  // skopeo writes optional.creator/timestamp and may put a tag in docker-reference.
  const skopeo = Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': 'r/app:v1' },
        image: { 'docker-manifest-digest': D },
        type: 'cosign container image signature',
      },
      optional: { creator: 'containers/image 5.23', timestamp: 1700000000 },
    }),
  );
  assert.equal(checkSimpleSigning(skopeo, D, 'sig').optional?.creator, 'containers/image 5.23');
});

test('checkSimpleSigning: another digest is SUBJECT_MISMATCH, anything not a cosign payload is SIGNATURE_INVALID', () => {
  assert.throws(
    () => checkSimpleSigning(simpleSigningPayload('r/app', OTHER), D, 'sig'),
    (e) => isVouchError(e, 'SUBJECT_MISMATCH') && e.message.includes(OTHER) && e.message.includes(D),
  );
  const bad: [string, string][] = [
    ['not json', 'not JSON'],
    ['[]', 'no "critical"'],
    ['{"critical":{"type":"atomic container signature","image":{}}}', 'critical.type'],
    ['{"critical":"x"}', 'no "critical"'],
  ];
  for (const [text, why] of bad) {
    assert.throws(
      () => checkSimpleSigning(Buffer.from(text), D, 'sig'),
      (e) => isVouchError(e, 'SIGNATURE_INVALID') && e.message.includes(why),
      text,
    );
  }
  assert.throws(
    () =>
      checkSimpleSigning(Buffer.from('{"critical":{"type":"cosign container image signature"}}'), D, 'sig'),
    (e) => isVouchError(e, 'SUBJECT_MISMATCH') && e.message.includes('(no digest)'),
  );
});

test('the cosign v3 statement has one subject with only the digest (and -a annotations)', () => {
  const s = cosignSignStatement(D);
  assert.deepEqual(JSON.parse(JSON.stringify(s)), {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ digest: { sha256: D.slice(7) } }],
    predicateType: COSIGN_SIGN_PREDICATE_TYPE,
    predicate: {},
  });
  const a = cosignSignStatement(D, { team: 'x' });
  assert.deepEqual(a.subject[0]?.annotations, { team: 'x' });
  const claims = claimsFromStatement(a, 'r/app', D);
  assert.equal(claims.critical.type, COSIGN_SIGN_PREDICATE_TYPE);
  assert.deepEqual(claims.optional, { team: 'x' });
  checkStatementSubject(s, D, 'st');
  assert.throws(
    () => checkStatementSubject(s, OTHER, 'st'),
    (e) => isVouchError(e, 'SUBJECT_MISMATCH') && e.message.includes(D) && e.message.includes(OTHER),
  );
});
