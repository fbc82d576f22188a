/**
 * `vouch attest`: cosign's `attest`. The predicate file becomes an in-toto Statement v1 about the
 * image's digest (subject name = repository), signed into a DSSE envelope and stored as a layer of
 * `sha256-<hex>.att` (default) or as a Sigstore bundle referrer.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { predicateFromFile } from '../../attest/predicates.ts';
import { VouchError } from '../../errors.ts';
import { attestImage } from '../../sign/image/sign.ts';
import { MAX_ATTACHMENT_BYTES } from '../../sign/image/store.ts';
import { openImageTarget } from '../../sign/image/target.ts';
import { terminalPrompt } from '../../sign/keys/passphrase.ts';
import { ExitCode, println } from '../io.ts';
import type { Command } from '../main.ts';
import { needPositionals, openOptions, registryOptions } from './common.ts';
import { placeOf, type SignerDeps, signerOptions, startSigning, storageOf } from './sign.ts';

async function readPredicate(path: string): Promise<string> {
  const st = await stat(path).catch((e: unknown) => {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new VouchError('FILE_NOT_FOUND', `predicate file ${path} does not exist`);
    throw new VouchError('IO_ERROR', `cannot read predicate file ${path}${code ? ` (${code})` : ''}`, {
      cause: e,
    });
  });
  if (!st.isFile()) throw new VouchError('IO_ERROR', `predicate ${path} is not a file`);
  if (st.size > MAX_ATTACHMENT_BYTES) {
    throw new VouchError('STATEMENT_INVALID', `predicate file ${path} is over ${MAX_ATTACHMENT_BYTES} bytes`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(await readFile(path));
  } catch (e) {
    throw new VouchError('STATEMENT_INVALID', `predicate file ${path} is not UTF-8 text`, { cause: e });
  }
}

export function makeAttestCommand(deps: SignerDeps): Command {
  return {
    name: 'attest',
    summary: 'Attest a predicate (SLSA provenance, SBOM, ...) about an image and store it next to it',
    usage:
      'attest IMAGE --predicate FILE [--type TYPE] (--key KEY | --identity-token TOKEN|@FILE | <GitHub Actions OIDC>) ' +
      '[--storage tag|referrers] [--tlog-upload] [--rekor-url U] [--fulcio-url U] [--tsa-url U] [--password-file F]',
    help: [
      '--type is a cosign alias (custom (default), slsaprovenance, slsaprovenance02, slsaprovenance1,',
      'spdx, spdxjson, cyclonedx, link, vuln, openvex) or a predicate type URI. As in cosign, `custom`',
      'wraps the file as {Data, Timestamp}, `spdx` keeps it as a string and the others take it as JSON.',
      'The statement names the image by digest (resolved once; a tag warns) and its repository.',
      'Storage and signing flags are those of vouch sign.',
      '',
      'Examples:',
      '  vouch attest 127.0.0.1:5000/app@sha256:... --type slsaprovenance1 --predicate prov.json --key cosign.key',
      '  vouch attest oci:./layout:v1 --type cyclonedx --predicate sbom.cdx.json --key cosign.key --storage referrers',
    ].join('\n'),
    options: {
      predicate: { type: 'string', description: 'the predicate file (JSON, or any text for --type custom)' },
      type: { type: 'string', description: 'predicate type alias or URI (default custom)' },
      ...signerOptions,
      ...registryOptions,
    },
    async run({ values, positionals }, io) {
      const [name] = needPositionals(positionals, ['IMAGE'], this.usage);
      if (typeof values.predicate !== 'string') {
        throw new VouchError('USAGE', '--predicate FILE is required', { hint: 'see vouch attest --help' });
      }
      storageOf(values.storage, 'attest');
      const type = typeof values.type === 'string' ? values.type : 'custom';
      const text = await readPredicate(resolve(io.cwd, values.predicate));
      const { predicateType, predicate } = predicateFromFile(type, text, new Date());
      const t = await openImageTarget(name!, openOptions(values, io.env));
      try {
        const how = await startSigning(values, io, deps, 'attest', name!, t);
        const r = await attestImage(t.store, t.image, t.repository, { ...how, predicateType, predicate });
        const where = placeOf(r);
        println(
          io.stderr,
          r.added
            ? `Pushed ${predicateType} attestation to ${where}`
            : `Already attested: ${where} has this attestation`,
        );
        println(io.stdout, t.display);
      } finally {
        await t.store.close();
      }
      return ExitCode.Ok;
    },
  };
}

export const attestCommand: Command = makeAttestCommand({ prompt: () => terminalPrompt() });
