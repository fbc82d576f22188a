import { VouchError } from '../../errors.ts';
import { parsePlatform } from '../../oci/platform.ts';
import type { Platform } from '../../oci/types.ts';
import type { OpenOptions } from '../../transport/open.ts';
import type { OptionSpec } from '../main.ts';

type Options = Record<string, OptionSpec>;

/** Registry flags shared by every command that reads or writes images. */
export const registryOptions = {
  insecure: {
    type: 'boolean',
    description: 'allow plain HTTP and unverified TLS (loopback registries are always allowed HTTP)',
  },
  'ca-file': { type: 'string', description: 'PEM file of extra CA certificates for registries' },
  authfile: {
    type: 'string',
    description: 'docker config.json with credentials (default $DOCKER_CONFIG or ~/.docker)',
  },
  creds: {
    type: 'string',
    description: 'USER[:PASSWORD] for the registry (password also from VOUCH_REGISTRY_PASSWORD)',
  },
} as const satisfies Options;

export const platformOption = {
  platform: {
    type: 'string',
    description: 'os/arch[/variant] to pick from an index (default: this machine)',
  },
} as const satisfies Options;

export function openOptions(v: Record<string, unknown>, env: NodeJS.ProcessEnv): OpenOptions {
  const registry: NonNullable<OpenOptions['registry']> = {};
  if (v.insecure) registry.insecure = true;
  if (typeof v['ca-file'] === 'string') registry.caFile = v['ca-file'];
  if (typeof v.authfile === 'string') registry.authFile = v.authfile;
  if (typeof v.creds === 'string') {
    const i = v.creds.indexOf(':');
    const username = i < 0 ? v.creds : v.creds.slice(0, i);
    const password = i < 0 ? (env.VOUCH_REGISTRY_PASSWORD ?? '') : v.creds.slice(i + 1);
    registry.credentials = { username, password };
  }
  return { registry };
}

export function platformOf(v: Record<string, unknown>): Platform | undefined {
  return typeof v.platform === 'string' ? parsePlatform(v.platform) : undefined;
}

export function needPositionals(positionals: string[], names: string[], usage: string): string[] {
  if (positionals.length !== names.length) {
    throw new VouchError('USAGE', `expected ${names.join(' and ')}, got ${positionals.length} argument(s)`, {
      hint: `usage: vouch ${usage}`,
    });
  }
  return positionals;
}
