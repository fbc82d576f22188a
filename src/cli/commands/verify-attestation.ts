/**
 * `vouch verify-attestation`: cosign's `verify-attestation`. Finds the image's attestations of
 * `--type` (referrer bundles and the `sha256-<hex>.att` tag), verifies each against the key or
 * keyless identity and the image digest, applies the CEL `--policy` to every verified statement,
 * and prints them (`--output json`: the statements themselves, e.g. to take an SBOM out).
 */
import { resolve } from 'node:path';
import { predicateTypeFor } from '../../attest/predicates.ts';
import { VouchError } from '../../errors.ts';
import { loadPolicyFile } from '../../policy/cel.ts';
import { openImageTarget } from '../../sign/image/target.ts';
import { verifyImageAttestations } from '../../verify/attestation.ts';
import { ExitCode, println } from '../io.ts';
import type { Command } from '../main.ts';
import { needPositionals, openOptions, registryOptions } from './common.ts';
import { checkTrustFlags, TRUST_HELP, trustFrom, trustOptions } from './trust-options.ts';
import { describeSigner, describeTimes, outputOf, reportRejections } from './verify.ts';

export const verifyAttestationCommand: Command = {
  name: 'verify-attestation',
  summary: 'Verify the attestations of an image (type, signer, subject) and check them with a CEL policy',
  usage:
    'verify-attestation IMAGE --type TYPE (--key PUB | --certificate-identity[-regexp] I --certificate-oidc-issuer[-regexp] O) ' +
    '[--policy FILE] [--trusted-root T] [--output json]',
  help: [
    '--type is a cosign alias (slsaprovenance1, cyclonedx, spdxjson, custom, ...) or a predicate type',
    'URI; attestations of other types are skipped. Each one must be signed by the key or identity',
    'and name the image digest as a subject (SUBJECT_MISMATCH otherwise). With --policy (a .cel',
    'expression or a vouch.dev/v1 AttestationPolicy YAML/JSON of named rules over `statement`,',
    '`predicateType`, `predicate`, `subject`), every verified statement must pass every rule:',
    'POLICY_FAILED names the rule and the attestation.',
    '',
    TRUST_HELP,
    '',
    '--output json prints the verified statements as a JSON array.',
    '',
    'Examples:',
    '  vouch verify-attestation 127.0.0.1:5000/app:v1 --type slsaprovenance1 --key cosign.pub --policy release.yaml',
    "  vouch verify-attestation oci:./layout:v1 --type cyclonedx --key cosign.pub --output json | jq '.[0].predicate'",
  ].join('\n'),
  options: {
    type: { type: 'string', description: 'predicate type alias or URI to verify' },
    policy: { type: 'string', description: 'CEL policy file (.cel, .yaml, .json) every statement must pass' },
    ...trustOptions,
    ...registryOptions,
  },
  async run({ values, positionals }, io) {
    const [name] = needPositionals(positionals, ['IMAGE'], this.usage);
    const output = outputOf(values.output, 'verify-attestation');
    if (typeof values.type !== 'string') {
      throw new VouchError('USAGE', '--type TYPE is required (an alias such as slsaprovenance1, or a URI)', {
        hint: 'see vouch verify-attestation --help',
      });
    }
    const predicateType = predicateTypeFor(values.type);
    checkTrustFlags(values, 'verify-attestation');
    const policy =
      typeof values.policy === 'string' ? await loadPolicyFile(resolve(io.cwd, values.policy)) : undefined;
    const o = await trustFrom(values, io);
    const t = await openImageTarget(name!, openOptions(values, io.env));
    try {
      const r = await verifyImageAttestations(t.store, t.image.digest, { ...o, predicateType, policy });
      reportRejections(r.rejected, io);
      if (output === 'json') {
        println(io.stdout, JSON.stringify(r.verified.map((a) => a.statement)));
      } else {
        const n = r.verified.length;
        println(io.stdout, `Verified ${n} ${predicateType} attestation${n === 1 ? '' : 's'} of ${t.display}`);
        for (const a of r.verified) {
          println(
            io.stdout,
            `  ${a.scheme} ${a.location}: ${describeSigner(a.signer)}${describeTimes(a.timestamps)}`,
          );
        }
        if (policy) println(io.stdout, `  policy ${policy.source}: ${policy.rules.length} rule(s) passed`);
      }
    } finally {
      await t.store.close();
    }
    return ExitCode.Ok;
  },
};
