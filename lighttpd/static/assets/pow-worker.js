// flashsale proof of work: finds a counter whose SHA-256 of "<nonce>:<counter>" starts with
// `bits` zero bits, off the page's thread, and reports its progress against the expected work.
// The search starts at a random counter: every buyer gets the same nonce, and a solution is
// accepted once, so browsers that all started at 0 would find the same one.
"use strict";

const encoder = new TextEncoder();
const BATCH = 256;

function zeroBits(bytes) {
  let count = 0;
  for (const byte of bytes) {
    if (byte !== 0) return count + Math.clz32(byte) - 24;
    count += 8;
  }
  return count;
}

self.onmessage = async ({ data: { nonce, bits } }) => {
  const expected = 2 ** bits;
  const first = Math.floor(Math.random() * 2 ** 48);
  for (let start = first; ; start += BATCH) {
    const digests = await Promise.all(Array.from({ length: BATCH }, (_, i) =>
      crypto.subtle.digest("SHA-256", encoder.encode(`${nonce}:${start + i}`))));
    const found = digests.findIndex((digest) => zeroBits(new Uint8Array(digest)) >= bits);
    if (found >= 0) {
      self.postMessage({ counter: String(start + found) });
      return;
    }
    self.postMessage({ progress: Math.min(0.99, (start + BATCH - first) / expected) });
  }
};
