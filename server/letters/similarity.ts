/**
 * Near-duplicate detection for the supporter's own words: word 3-shingles of normalised text,
 * compared with Jaccard similarity. To stay cheap as letters pile up, each fingerprint also yields
 * MinHash bands (8 bands of 2 hashes): two texts with Jaccard ≥ 0.8 share a band with probability
 * above 0.999, so only letters sharing a band (an indexed lookup) are compared exactly.
 */

const shingleSize = 3;
const hashCount = 16;
const rowsPerBand = 2;
export const bandCount = hashCount / rowsPerBand;

/** Lower-case, accents kept, every run of punctuation or space folded into one space. */
export function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: spreads the bits of a 32-bit value. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const seeds = Array.from({ length: hashCount }, (_, i) => mix(0x9e3779b9 + i * 0x632be5ab));

/** The sorted, distinct hashes of a text's word 3-shingles (a shorter text is one shingle). */
export function fingerprint(text: string): Uint32Array {
  const words = normalise(text).split(' ').filter(Boolean);
  const hashes = new Set<number>();
  if (words.length > 0 && words.length < shingleSize) hashes.add(fnv1a(words.join(' ')));
  for (let i = 0; i + shingleSize <= words.length; i++) {
    hashes.add(fnv1a(words.slice(i, i + shingleSize).join(' ')));
  }
  return Uint32Array.from([...hashes].sort((a, b) => a - b));
}

/** What the supporter wrote: the shingles of their letter that the template alone does not produce. */
export function contribution(letter: Uint32Array, template: Uint32Array): Uint32Array {
  const out: number[] = [];
  let j = 0;
  for (const h of letter) {
    while (j < template.length && template[j]! < h) j++;
    if (template[j] !== h) out.push(h);
  }
  return Uint32Array.from(out);
}

/**
 * What the supporter wrote, as a fingerprint: the shingles of their letter that the bare template
 * does not produce, minus the seams where the template meets their words (shared by every letter
 * that starts with "I" or "My", they would make unrelated letters look alike). Edits anywhere in the
 * text count as their own. Empty when nothing of theirs is left.
 */
export function ownContribution(text: string, generated: string, bare: string, ownWords: string): Uint32Array {
  const template = fingerprint(bare);
  const words = fingerprint(ownWords);
  const seams = contribution(contribution(fingerprint(generated), template), words);
  const own = contribution(contribution(fingerprint(text), template), seams);
  // Words too few to make a shingle of their own still count, if the letter still holds them.
  if (own.length === 0 && normalise(ownWords) && normalise(text).includes(normalise(ownWords))) return words;
  return own;
}

/** |A ∩ B| / |A ∪ B| of two sorted fingerprints. */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let shared = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      shared++;
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  return shared / (a.length + b.length - shared);
}

/**
 * The band keys of a fingerprint: `band * 2^32 + hash`, so they fit a SQLite integer and a lookup
 * by key never mixes bands. Empty for an empty fingerprint.
 */
export function bands(print: Uint32Array): number[] {
  if (print.length === 0) return [];
  const mins = seeds.map((seed) => {
    let min = 0xffffffff;
    for (const h of print) {
      const v = mix(h ^ seed);
      if (v < min) min = v;
    }
    return min;
  });
  const keys: number[] = [];
  for (let band = 0; band < bandCount; band++) {
    let h = band;
    for (let r = 0; r < rowsPerBand; r++) h = mix(Math.imul(h, 0x01000193) ^ mins[band * rowsPerBand + r]!);
    keys.push(band * 2 ** 32 + h);
  }
  return keys;
}

export function toBlob(print: Uint32Array): Buffer {
  return Buffer.from(print.buffer, print.byteOffset, print.byteLength);
}

export function fromBlob(blob: Buffer): Uint32Array {
  // Copy: a Buffer's offset into its pool need not be 4-byte aligned.
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Uint32Array(copy.buffer);
}
