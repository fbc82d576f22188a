import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { parseDate, parseIgnoreFile, parseTrivyIgnore, parseTrivyIgnoreYaml } from './ignorefile.ts';

function refuses(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isVouchError(e, 'IGNOREFILE_INVALID'), `expected IGNOREFILE_INVALID, got ${String(e)}`);
    for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" should contain "${p}"`);
    return true;
  });
}

test('plain .trivyignore: ids, expiry and trailing statements', () => {
  const cases: { line: string; id: string; expires?: string; statement: string }[] = [
    { line: 'CVE-2019-0001 # not reachable', id: 'CVE-2019-0001', statement: 'not reachable' },
    { line: '  CVE-2019-0002\t#\ttabs around  ', id: 'CVE-2019-0002', statement: 'tabs around' },
    {
      line: 'CVE-2019-0004 exp:2020-01-01 # until the rebuild',
      id: 'CVE-2019-0004',
      expires: '2020-01-01',
      statement: 'until the rebuild',
    },
    {
      line: 'GHSA-x84v-xcm2-53pg exp:9999-12-31 #no space',
      id: 'GHSA-x84v-xcm2-53pg',
      expires: '9999-12-31',
      statement: 'no space',
    },
    {
      line: 'CVE-2020-1#x # ids may hold # when not a field start',
      id: 'CVE-2020-1#x',
      statement: 'ids may hold # when not a field start',
    },
    {
      line: 'AVD-DS-0002 # a # inside # the statement',
      id: 'AVD-DS-0002',
      statement: 'a # inside # the statement',
    },
    {
      line: 'CVE-2024-0001 exp:2024-02-29 # leap day',
      id: 'CVE-2024-0001',
      expires: '2024-02-29',
      statement: 'leap day',
    },
  ];
  for (const c of cases) {
    const [e, ...more] = parseTrivyIgnore(`${c.line}\n`, '.trivyignore');
    assert.equal(more.length, 0, c.line);
    assert.equal(e?.id, c.id, c.line);
    assert.equal(e?.statement, c.statement, c.line);
    assert.equal(e?.expires, c.expires, c.line);
    if (c.expires) assert.equal(e?.expiresAt?.toISOString(), `${c.expires}T00:00:00.000Z`, c.line);
    assert.deepEqual(e?.source, { file: '.trivyignore', line: 1 }, c.line);
  }
});

test('plain .trivyignore: blank lines, comment lines, CRLF and BOM are skipped; lines are counted', () => {
  const text =
    '\uFEFF# vulnerabilities\r\n\r\n   \r\nCVE-1 # a\r\n  # indented comment\r\nCVE-2 exp:2030-01-01 # b\r\n';
  const got = parseTrivyIgnore(text, 'x/.trivyignore');
  assert.deepEqual(
    got.map((e) => [e.id, e.source.line, e.statement]),
    [
      ['CVE-1', 4, 'a'],
      ['CVE-2', 6, 'b'],
    ],
  );
});

test('plain .trivyignore refusals name file:line and say why', () => {
  const cases: { text: string; parts: string[] }[] = [
    { text: 'CVE-2019-0001\n', parts: ['.trivyignore:1', 'CVE-2019-0001 has no statement'] },
    { text: '# c\n\nCVE-2019-0001 #   \n', parts: ['.trivyignore:3', 'no statement'] },
    {
      text: 'CVE-1 exp:2020-13-01 # x\n',
      parts: ['.trivyignore:1', 'exp:2020-13-01', 'trivy would silently drop this line'],
    },
    { text: 'CVE-1 exp:2023-02-29 # not a leap year\n', parts: [':1', 'exp:2023-02-29'] },
    { text: 'CVE-1 exp:20200101 # x\n', parts: ['exp:20200101'] },
    { text: 'CVE-1 exp: # x\n', parts: ['"exp:"'] },
    {
      text: 'ok # fine\nCVE-1 exp:9999-01-01 key2:value2 # x\n',
      parts: ['.trivyignore:2', 'unknown field "key2:value2"'],
    },
    { text: 'CVE-1 expires:2030-01-01 # typo\n', parts: ['unknown field "expires:2030-01-01"'] },
    { text: 'CVE-1 exp:2030-01-01 exp:2031-01-01 # x\n', parts: ['more than one exp:'] },
    { text: 'this file is not a valid trivyignore file\n', parts: [':1', 'unknown field "file"'] },
  ];
  for (const c of cases) refuses(() => parseTrivyIgnore(c.text, '.trivyignore'), ...c.parts);
});

test('parseDate accepts real calendar dates only', () => {
  const table: [string, string | undefined][] = [
    ['2026-09-01', '2026-09-01T00:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29', '2000-02-29T00:00:00.000Z'],
    ['1900-02-29', undefined],
    ['2023-02-29', undefined],
    ['2023-04-31', undefined],
    ['2023-00-10', undefined],
    ['2023-1-10', undefined],
    ['2023-01-10T00:00:00Z', undefined],
    ['', undefined],
  ];
  for (const [s, want] of table) assert.equal(parseDate(s)?.toISOString(), want, s);
});

test('YAML form: every field, line numbers, id-optional entries', () => {
  const text = [
    'vulnerabilities:',
    '  - id: CVE-2023-3817',
    '    purls: ["pkg:deb/debian/libssl3"]',
    '    paths:',
    '      - "usr/lib/**"',
    '    statement: not reachable',
    '    expired_at: 2026-09-01',
    '  - id: CVE-2019-0005',
    '    statement: "rolled out fix pending"',
    '    expired_at: 2023-01-01T12:00:00Z',
    '  - purls:',
    '      - "pkg:deb/ubuntu/linux-libc-dev"',
    '    statement: Kernel headers, not exercised at runtime',
    'misconfigurations:',
    '  - id: AVD-DS-0002',
    'secrets: []',
    'licenses:',
  ].join('\n');
  const got = parseTrivyIgnoreYaml(text, 'p/.trivyignore.yaml');
  assert.equal(got.length, 3);
  assert.deepEqual(got[0], {
    id: 'CVE-2023-3817',
    purls: ['pkg:deb/debian/libssl3'],
    paths: ['usr/lib/**'],
    statement: 'not reachable',
    expires: '2026-09-01',
    expiresAt: new Date('2026-09-01T00:00:00Z'),
    source: { file: 'p/.trivyignore.yaml', line: 2 },
  });
  assert.equal(got[1]?.expiresAt?.toISOString(), '2023-01-01T12:00:00.000Z');
  assert.equal(got[1]?.source.line, 8);
  assert.equal(got[2]?.id, undefined);
  assert.deepEqual(got[2]?.purls, ['pkg:deb/ubuntu/linux-libc-dev']);
  assert.equal(got[2]?.source.line, 11);
});

test('YAML form: empty documents are no exceptions', () => {
  for (const text of ['', '\n', '# only a comment\n', 'vulnerabilities:\n', 'vulnerabilities: []\n']) {
    assert.deepEqual(parseTrivyIgnoreYaml(text, '.trivyignore.yaml'), [], JSON.stringify(text));
  }
});

test('YAML form refusals name the field and its line', () => {
  const f = '.trivyignore.yaml';
  const cases: { text: string; parts: string[] }[] = [
    { text: 'vulnerabilities:\n  - id: CVE-1\n', parts: [`${f}:2`, 'CVE-1 has no "statement"'] },
    {
      text: 'vulnerabilities:\n  - id: CVE-1\n    statement: "  "\n',
      parts: [`${f}:3`, '"statement" is empty'],
    },
    {
      text: 'vulnerabilities:\n  - id: CVE-1\n    statement: x\n    expired_at: 2023-13-01\n',
      parts: [`${f}:4`, 'expired_at "2023-13-01"'],
    },
    {
      text: 'vulnerabilities:\n  - id: CVE-1\n    statement: x\n    expires_at: 2023-01-01\n',
      parts: [`${f}:4`, 'unknown key "expires_at"'],
    },
    { text: 'vulnerabilites:\n  - id: CVE-1\n', parts: [`${f}:1`, 'unknown key "vulnerabilites"'] },
    {
      text: 'vulnerabilities:\n  - statement: everything\n',
      parts: [`${f}:2`, 'without "id" must list "paths" or "purls"'],
    },
    {
      text: 'vulnerabilities:\n  - id: CVE-1\n    statement: x\n    purls: ["not a purl"]\n',
      parts: [`${f}:4`, '"not a purl" is not a package URL'],
    },
    {
      text: 'vulnerabilities:\n  - id: CVE-1\n    statement: x\n    purls: "pkg:npm/a"\n',
      parts: [`${f}:4`, '"purls" must be a list'],
    },
    {
      text: 'vulnerabilities:\n  - id: CVE-1\n    statement: x\n    paths: ["a**b"]\n',
      parts: [`${f}:4`, 'paths:'],
    },
    {
      text: 'vulnerabilities:\n  - id: [CVE-1]\n    statement: x\n',
      parts: [`${f}:2`, '"id" must be a string'],
    },
    { text: 'vulnerabilities:\n  - CVE-1\n', parts: [`${f}:2`, 'must be a mapping'] },
    { text: 'vulnerabilities: CVE-1\n', parts: [`${f}:1`, 'must be a list'] },
    { text: 'this file is not a yaml file', parts: [`${f}:1`, 'must be a mapping'] },
    {
      text: 'vulnerabilities:\n  - id: CVE-1\n    id: CVE-2\n    statement: x\n',
      parts: [`${f}:3`, 'not valid YAML'],
    },
    { text: 'vulnerabilities:\n  - id: "CVE-1\n', parts: ['not valid YAML'] },
  ];
  for (const c of cases) refuses(() => parseTrivyIgnoreYaml(c.text, f), ...c.parts);
});

test('parseIgnoreFile picks the form by extension, as trivy does', () => {
  const yaml = 'vulnerabilities:\n  - id: CVE-1\n    statement: x\n';
  assert.equal(parseIgnoreFile(yaml, 'a/.trivyignore.yaml')[0]?.id, 'CVE-1');
  assert.equal(parseIgnoreFile(yaml, 'a/ignore.YML')[0]?.id, 'CVE-1');
  refuses(() => parseIgnoreFile(yaml, 'a/.trivyignore'), 'a/.trivyignore:1');
});
