/** Test support: flip bits in place (corrupting zip member data on purpose). */
export function flipBytes(b: Uint8Array, at: number, count: number, mask = 0x5a): void {
  if (at + count > b.length) throw new RangeError(`cannot flip ${count} bytes at ${at} of ${b.length}`);
  for (let i = at; i < at + count; i++) b[i] = b[i]! ^ mask;
}
