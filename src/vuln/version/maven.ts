/**
 * Maven versions, ordered as Maven 3.8's ComparableVersion: items split on '.', '-' and digit/letter
 * changes, '-' and digit/letter changes open a sub-list, trailing "null" items (0, "", ga, final,
 * release) are dropped, a qualifier after '.' opens a sub-list as after '-' (1.0.RC1 == 1.0-RC1), and a
 * sub-list is weighed whole against a missing item; numbers beat qualifiers, known qualifiers rank
 * alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp, unknown ones after, by text.
 * Every non-empty string parses; valid here means printable ASCII without spaces.
 */
import {
  compareDigits,
  compareStrings,
  defineComparator,
  fail,
  isDigit,
  type Order,
  PRINTABLE,
} from './common.ts';

type Item = { kind: 'number'; digits: string } | { kind: 'string'; value: string } | ListItem;
interface ListItem {
  kind: 'list';
  items: Item[];
}

export type MavenVersion = ListItem;

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const RELEASE_INDEX = QUALIFIERS.indexOf('');
const ALIASES: Readonly<Record<string, string>> = { ga: '', final: '', release: '', cr: 'rc' };

function stringItem(raw: string, followedByDigit: boolean): Item {
  let value = raw;
  // 'a1', 'b2', 'm3' are shorthands only when a number follows the letter
  if (followedByDigit && value.length === 1) {
    value = value === 'a' ? 'alpha' : value === 'b' ? 'beta' : value === 'm' ? 'milestone' : value;
  }
  return { kind: 'string', value: ALIASES[value] ?? value };
}

function parseItem(digit: boolean, text: string): Item {
  return digit ? { kind: 'number', digits: text.replace(/^0+(?=.)/, '') } : stringItem(text, false);
}

function isNull(item: Item): boolean {
  if (item.kind === 'number') return item.digits === '0';
  if (item.kind === 'string') return item.value === '';
  return item.items.length === 0;
}

/** Drops trailing null items, stepping over trailing sub-lists (ListItem.normalize). */
function normalize(list: ListItem): void {
  for (let i = list.items.length - 1; i >= 0; i--) {
    const item = list.items[i]!;
    if (isNull(item)) list.items.splice(i, 1);
    else if (item.kind !== 'list') break;
  }
}

export function parseMaven(v: string) {
  if (v === '') return fail('version string is empty');
  if (!PRINTABLE.test(v)) return fail('only printable ASCII without spaces is accepted');
  const version = v.toLowerCase();
  const root: ListItem = { kind: 'list', items: [] };
  let list = root;
  const stack: ListItem[] = [root];
  const open = () => {
    const sub: ListItem = { kind: 'list', items: [] };
    list.items.push(sub);
    list = sub;
    stack.push(sub);
  };
  let digit = false;
  let start = 0;
  for (let i = 0; i < version.length; i++) {
    const c = version[i]!;
    if (c === '.' || c === '-') {
      list.items.push(
        i === start ? { kind: 'number', digits: '0' } : parseItem(digit, version.slice(start, i)),
      );
      start = i + 1;
      if (c === '-') open();
    } else if (isDigit(c)) {
      if (!digit && i > start) {
        // a qualifier after '.' reads as after '-' ("1.0.RC1" == "1.0-RC1"): it opens its own sub-list
        if (list.items.length > 0) open();
        list.items.push(stringItem(version.slice(start, i), true));
        start = i;
        open();
      }
      digit = true;
    } else {
      if (digit && i > start) {
        list.items.push(parseItem(true, version.slice(start, i)));
        start = i;
        open();
      }
      digit = false;
    }
  }
  if (version.length > start) {
    // a qualifier at the end after '.' also opens its own sub-list ("1.0.RC" == "1.0-RC")
    if (!digit && list.items.length > 0) open();
    list.items.push(parseItem(digit, version.slice(start)));
  }
  for (let l = stack.pop(); l !== undefined; l = stack.pop()) normalize(l);
  return root satisfies MavenVersion;
}

/** Known qualifiers by rank, unknown ones after all of them by text (as ComparableVersion's "7-name"). */
function compareQualifiers(a: string, b: string): Order {
  const ia = QUALIFIERS.indexOf(a);
  const ib = QUALIFIERS.indexOf(b);
  if (ia >= 0 && ib >= 0) return ia < ib ? -1 : ia > ib ? 1 : 0;
  if (ia >= 0) return -1;
  if (ib >= 0) return 1;
  return compareStrings(a, b);
}

/** Item.compareTo, with `undefined` for Java's null (the side that ran out of items). */
function compareItem(a: Item, b: Item | undefined): Order {
  switch (a.kind) {
    case 'number':
      if (b === undefined) return a.digits === '0' ? 0 : 1;
      return b.kind === 'number' ? compareDigits(a.digits, b.digits) : 1;
    case 'string':
      if (b === undefined) return compareQualifiers(a.value, QUALIFIERS[RELEASE_INDEX]!);
      if (b.kind === 'string') return compareQualifiers(a.value, b.value);
      return -1;
    case 'list': {
      if (b === undefined) {
        // every item counts against nothing, not just the first (MNG-6964: 1-0.1 > 1)
        for (const item of a.items) {
          const r = compareItem(item, undefined);
          if (r !== 0) return r;
        }
        return 0;
      }
      if (b.kind === 'number') return -1;
      if (b.kind === 'string') return 1;
      const n = Math.max(a.items.length, b.items.length);
      for (let i = 0; i < n; i++) {
        const x = a.items[i];
        const y = b.items[i];
        const r =
          x === undefined ? (y === undefined ? 0 : negate(compareItem(y, undefined))) : compareItem(x, y);
        if (r !== 0) return r;
      }
      return 0;
    }
  }
}

function negate(o: Order): Order {
  return o === 0 ? 0 : o === 1 ? -1 : 1;
}

export function compareMavenVersions(a: MavenVersion, b: MavenVersion): Order {
  return compareItem(a, b);
}

export const mavenComparator = defineComparator('maven', parseMaven, compareMavenVersions);
