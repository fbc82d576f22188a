/**
 * File modes as Go's `fs.FileMode.String()` prints them, the form container-structure-test's
 * `permissions` field is written in: type letters from "dalTLDpSugct?" (those set, or '-'),
 * then rwxrwxrwx. A tar entry's mode maps like archive/tar's FileInfo: setuid, setgid and sticky
 * bits become 'u', 'g', 't'; a hardlink is a regular file.
 */
import type { EntryType } from '../fs/tar.ts';

export function goFileMode(type: EntryType, mode: number): string {
  let letters = '';
  if (type === 'dir') letters += 'd';
  if (type === 'symlink') letters += 'L';
  if (type === 'char' || type === 'block') letters += 'D';
  if (type === 'fifo') letters += 'p';
  if (mode & 0o4000) letters += 'u';
  if (mode & 0o2000) letters += 'g';
  if (type === 'char') letters += 'c';
  if (mode & 0o1000) letters += 't';
  if (letters === '') letters = '-';
  const rwx = 'rwxrwxrwx';
  let perm = '';
  for (let i = 0; i < 9; i++) perm += mode & (1 << (8 - i)) ? rwx[i] : '-';
  return letters + perm;
}
