import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findSecrets, looksRandom, redact, secretReason, wordsOf } from './secrets.ts';

/** Env entries of official images and common configs that are not secrets. */
const CLEAN = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'HOME=/root',
  'PWD=/app',
  'OLDPWD=/',
  'LANG=C.UTF-8',
  // python: the release manager's key fingerprint
  'GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D',
  // php: several fingerprints
  'GPG_KEYS=1198C0117593497A5EC5C199286AF1F9897469DC 39B641343D8C104B2B146DC3F9C39DC0B9698544',
  // nginx (older images)
  'NGINX_GPGKEY=573BFD6B3D8FBC641079A6ABABF5BD827BD9BF62',
  'NGINX_GPGKEYS=13C82A63B603576156E30A4EA0EA981B66B0D967 D6786CE303D9A9022998DC6CC8464D549AF75C22',
  'PYTHON_SHA256=24887b92e2afd4a2ac602419ad4b596372f67ac9b077190f459aba390faf5550',
  'RUBY_DOWNLOAD_SHA256=c38dde0eac8f6e1cf9a8b3f9b1bd6a0a0f0e7d3c2b1a0f9e8d7c6b5a4f3e2d1c',
  'REDIS_DOWNLOAD_SHA=2e1b7b6e0fc5b2a1f8b7c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0',
  'NODE_VERSION=20.11.1',
  'JAVA_HOME=/opt/java/openjdk',
  'POSTGRES_PASSWORD_FILE=/run/secrets/db-password',
  'MYSQL_ROOT_PASSWORD=',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a reference to another variable, not a value
  'REDIS_PASSWORD=${REDIS_PASSWORD}',
  'TOKEN_URL=https://auth.example.com/oauth/token',
  'AUTH_TOKEN_TTL=3600',
  'PASSWORD_MIN_LENGTH=12',
  'SECRET_NAME=my-kubernetes-secret',
  'VAULT_TOKEN_PATH=/var/run/secrets/vault-token',
  'DISABLE_TOKEN=true',
  'API_KEY_HEADER=X-Api-Key',
  'CACHE_KEY=v1-deps',
  'SSH_PUBLIC_KEY=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGm2 user@host',
  'STRIPE_PUBLIC_KEY=pk_live_51H8aXcLkdIwHu7ix',
  'DATABASE_URL=postgres://app@db:5432/app',
  'GOSU_VERSION=1.17',
  'PASSTHROUGH=1',
  'KEYBOARD=us',
];

/** Secrets, with the reason vouch must give. */
const SECRETS: [string, RegExp][] = [
  ['DB_PASSWORD=hunter2hunter2', /name says password/],
  ['POSTGRES_PASSWORD=changeme', /name says password/],
  ['MYSQL_ROOT_PASSWORD=example', /name says password/],
  ['AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', /name says secret/],
  ['AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE', /AWS access key id/],
  ['GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345', /GitHub token/],
  ['NPM_CONFIG_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789', /npm token/],
  ['SLACK=xoxb-1234567890-abcdefghijk', /Slack token/],
  ['STRIPE=sk_live_4eC39HqLyjWDarjtT1zdp7dc', /Stripe secret key/],
  ['GOOGLE=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe', /Google API key/],
  ['GL=glpat-abcdefghij0123456789', /GitLab token/],
  [
    'SESSION=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    /JSON Web Token/,
  ],
  [
    'TLS_KEY=-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
    /PEM private key/,
  ],
  ['K=-----BEGIN PRIVATE KEY-----MIIB', /PEM private key/],
  ['SIGNING=-----BEGIN OPENSSH PRIVATE KEY-----', /PEM private key/],
  ['GPG_PRIVATE=-----BEGIN PGP PRIVATE KEY BLOCK-----', /PEM private key/],
  ['http_proxy=http://user:s3cr3t@proxy.corp:3128', /URL with a password/],
  ['DATABASE_URL=postgres://app:p4ssw0rd@db:5432/app', /URL with a password/],
  ['CLIENT_SECRET=9f8e7d6c', /name says secret/],
  ['apiKey=abc123def456', /name says api key/],
  ['DB_PASS=letmein', /name says pass/],
  ['DBPWD=letmein', /name says dbpwd/],
  ['GPG_PASSPHRASE=correct horse battery staple', /name says passphrase/],
  ['SECRET_KEY_BASE=0123456789abcdef', /name says secret/],
  ['LICENSE_KEY=Zk9x2Lq8Vb3Nw7Rt5Yp1', /value looks random/],
  ['ENCRYPTION_KEY=short', /name says encryption key/],
  ['SERVICE_TOKEN=12345678901234567890', /name says token/],
];

test('official images and descriptive names are not flagged', () => {
  const found = findSecrets(CLEAN, {
    'org.opencontainers.image.revision': '0f3c8e8a2b1d4c5e6f708192a3b4c5d6e7f80912',
    'org.opencontainers.image.source': 'https://github.com/example/app',
    maintainer: 'Jane <jane@example.com>',
  });
  assert.deepEqual(found, []);
});

test('secrets are flagged by value format or by name, with the reason', () => {
  for (const [entry, reason] of SECRETS) {
    const [f, ...rest] = findSecrets([entry], {});
    assert.equal(rest.length, 0, entry);
    assert.ok(f, `${entry} is a secret`);
    assert.match(f.reason, reason, entry);
    assert.equal(f.source, 'env');
    assert.equal(f.name, entry.slice(0, entry.indexOf('=')));
  }
});

test('labels are checked like env, and messages never contain the secret', () => {
  const found = findSecrets([], {
    'com.example.api-token': 'tok_9a8b7c6d5e4f3a2b1c0d',
    'org.opencontainers.image.title': 'app',
    'com.example.deploy-url': 'https://deploy:hunter2@ci.example.com/hook',
  });
  assert.deepEqual(
    found.map((f) => `${f.source} ${f.name}: ${f.reason}`),
    [
      'label com.example.api-token: name says token',
      'label com.example.deploy-url: value is a URL with a password in it',
    ],
  );
  for (const [entry] of SECRETS) {
    const value = entry.slice(entry.indexOf('=') + 1);
    const [f] = findSecrets([entry], {});
    assert.ok(!f!.redacted.includes(value), `${entry}: ${f!.redacted}`);
    // nothing beyond a public format prefix (at most 8 characters) survives
    assert.match(f!.redacted, /^.{0,8}… \(\d+ chars\)$/s);
  }
});

test('redaction, words and entropy', () => {
  assert.equal(redact('ghp_0123456789abcdefghijABCDEFGHIJ012345', 4), 'ghp_… (40 chars)');
  assert.equal(redact('hunter2'), '… (7 chars)');
  assert.deepEqual(wordsOf('AWS_SECRET_ACCESS_KEY'), ['AWS', 'SECRET', 'ACCESS', 'KEY']);
  assert.deepEqual(wordsOf('com.example.api-token'), ['COM', 'EXAMPLE', 'API', 'TOKEN']);
  assert.deepEqual(wordsOf('githubApiKey'), ['GITHUB', 'API', 'KEY']);
  assert.ok(looksRandom('Zk9x2Lq8Vb3Nw7Rt5Yp1'));
  assert.ok(looksRandom('24887b92e2afd4a2ac602419ad4b5963'));
  assert.ok(!looksRandom('aaaaaaaaaaaaaaaaaaaaaaaa'));
  assert.ok(!looksRandom('correct horse battery staple'));
  assert.ok(!looksRandom('short'));
  assert.equal(secretReason('KEY_PASSWORD', '/run/secrets/x'), undefined);
  assert.equal(secretReason('PASSWORD', 'null'), undefined);
});
