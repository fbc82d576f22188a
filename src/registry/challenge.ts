/** `WWW-Authenticate` parsing (RFC 7235 auth-params), for the two schemes registries use. */

export type Challenge =
  | { scheme: 'basic'; realm?: string }
  | { scheme: 'bearer'; realm: string; service?: string; scope?: string; error?: string }
  | { scheme: 'other'; name: string };

/** Split `Scheme k=v, k="v", Scheme2 ...` into challenges; quoted values may hold commas. */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  let scheme: string | undefined;
  let params: Record<string, string> = {};
  const flush = (): void => {
    if (scheme) out.push(toChallenge(scheme, params));
    scheme = undefined;
    params = {};
  };
  let i = 0;
  const s = header;
  const skip = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
  };
  while (i < s.length) {
    skip();
    const tokenStart = i;
    while (i < s.length && /[^\s,=]/.test(s[i] ?? '')) i++;
    const token = s.slice(tokenStart, i);
    if (!token) break;
    let j = i;
    while (s[j] === ' ') j++;
    if (s[j] === '=' && scheme) {
      // a parameter of the current challenge
      i = j + 1;
      while (s[i] === ' ') i++;
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++;
      } else {
        const start = i;
        while (i < s.length && s[i] !== ',') i++;
        value = s.slice(start, i).trim();
      }
      params[token.toLowerCase()] = value;
    } else {
      flush();
      scheme = token;
    }
  }
  flush();
  return out;
}

function toChallenge(scheme: string, p: Record<string, string>): Challenge {
  const name = scheme.toLowerCase();
  if (name === 'basic') return { scheme: 'basic', ...(p.realm !== undefined ? { realm: p.realm } : {}) };
  if (name === 'bearer' && p.realm) {
    return {
      scheme: 'bearer',
      realm: p.realm,
      ...(p.service !== undefined ? { service: p.service } : {}),
      ...(p.scope !== undefined ? { scope: p.scope } : {}),
      ...(p.error !== undefined ? { error: p.error } : {}),
    };
  }
  return { scheme: 'other', name: scheme };
}

/** The challenge we can answer: Bearer preferred over Basic. */
export function pickChallenge(header: string | undefined): Challenge | undefined {
  const all = parseChallenges(header);
  return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic') ?? all[0];
}

/** `repository:<name>:<actions>` as the token spec writes scopes. */
export function repositoryScope(repository: string, actions: string): string {
  return `repository:${repository}:${actions}`;
}

/** Merge scopes, joining the actions of one resource: `repo:a:pull` + `repo:a:push` → `repo:a:pull,push`. */
export function mergeScopes(scopes: readonly string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const s of scopes.flatMap((x) => x.split(' ')).filter(Boolean)) {
    const i = s.lastIndexOf(':');
    const resource = i > 0 ? s.slice(0, i) : s;
    const actions = i > 0 ? s.slice(i + 1).split(',') : [];
    const set = byResource.get(resource) ?? new Set<string>();
    for (const a of actions) if (a) set.add(a);
    byResource.set(resource, set);
  }
  return [...byResource].map(([r, a]) => (a.size ? `${r}:${[...a].sort().join(',')}` : r)).sort();
}
