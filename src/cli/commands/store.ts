/**
 * `vouch store ls STORE_URL [PREFIX]`: what the pipeline uploaded to an artifact store.
 */
import { VouchError } from '../../errors.ts';
import { openStore } from '../../store/open.ts';
import type { ListEntry } from '../../store/store.ts';
import { parseStoreUrl } from '../../store/url.ts';
import { println } from '../io.ts';
import type { Command, OptionSpec } from '../main.ts';

const SUBCOMMANDS = ['ls'] as const;

const options = {
  json: { type: 'boolean', description: 'print {"store", "objects": [{"key", "size"}]} as JSON' },
} as const satisfies Record<string, OptionSpec>;

const HELP = [
  'List the keys (and sizes in bytes) under PREFIX in an artifact store, in key order.',
  '',
  'Store URLs:',
  '  dir:PATH                                   a directory (the pipeline default)',
  '  s3://BUCKET[/PREFIX][?endpoint=URL&region=R&path-style=true|false]',
  '                                             S3 or S3-compatible storage; path-style defaults to',
  '                                             true when an endpoint is given',
  '',
  'Layout: sboms/{arch}/sbom-{image}-cyclonedx.json, sboms/{arch}/sbom-{image}-spdx.json,',
  '  attestations/{arch}/attestation-{image}.json, scans/{arch}/scan-{image}.json, each with',
  '  <key>.sig (base64 signature, as cosign sign-blob). {image} is NAME-VERSION, e.g. app-1.2.3.',
  '',
  'S3 credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (else the',
  'AWS profile or role of the machine); the region from ?region=, AWS_REGION or us-east-1.',
  '',
  'Examples:',
  '  vouch store ls dir:vouch-artifacts',
  '  vouch store ls dir:vouch-artifacts sboms/arm64/',
  '  vouch store ls "s3://releases/app?endpoint=http://127.0.0.1:9000" scans/',
].join('\n');

export const storeCommand: Command = {
  name: 'store',
  summary: 'List what the pipeline uploaded to an artifact store (directory or S3)',
  usage: 'store ls STORE_URL [PREFIX] [--json]',
  help: HELP,
  options,
  async run({ values, positionals }, io) {
    const [sub, url, prefix, ...extra] = positionals;
    if (sub !== 'ls') {
      throw new VouchError('USAGE', sub ? `unknown store subcommand "${sub}"` : 'missing store subcommand', {
        hint: `subcommands: ${SUBCOMMANDS.join(', ')}; usage: vouch store ls STORE_URL [PREFIX]`,
      });
    }
    if (url === undefined || extra.length > 0) {
      throw new VouchError(
        'USAGE',
        url === undefined ? 'missing STORE_URL' : `unexpected argument "${extra[0]}"`,
        {
          hint: 'usage: vouch store ls STORE_URL [PREFIX]',
        },
      );
    }
    const config = parseStoreUrl(url, io.cwd);
    const store = await openStore(config, { env: io.env, create: false });
    const objects: ListEntry[] = [];
    try {
      for await (const e of store.list(prefix ?? '')) objects.push(e);
    } finally {
      await store.close();
    }
    if (values.json === true) {
      println(io.stdout, JSON.stringify({ store: store.description, objects }, null, 2));
      return 0;
    }
    const width = Math.max(0, ...objects.map((o) => String(o.size).length));
    for (const o of objects) println(io.stdout, `${String(o.size).padStart(width)}  ${o.key}`);
    if (objects.length === 0)
      println(io.stderr, `no objects under "${prefix ?? ''}" in ${store.description}`);
    return 0;
  },
};
