import fc from 'fast-check';
import {
  bands,
  contribution,
  fingerprint,
  fromBlob,
  jaccard,
  normalise,
  ownContribution,
  toBlob,
} from '../../server/letters/similarity';

describe('near-duplicate fingerprints', () => {
  const words = 'I grew up near a minefield that took years to clear and my cousin lost a leg there as a child';

  it('folds case, punctuation and spacing', () => {
    expect(normalise('  Hello,   WORLD!!  Ça va?')).toBe('hello world ça va');
    expect(jaccard(fingerprint(words), fingerprint(`  ${words.toUpperCase()}!!! `))).toBe(1);
  });

  it('finds nearly identical words similar (one word changed) and different words not', () => {
    const nearly = words.replace('cousin', 'brother');
    expect(jaccard(fingerprint(words), fingerprint(nearly))).toBeGreaterThanOrEqual(0.7);
    const other = 'Public hospitals in my town are already closing wards for lack of money this winter';
    expect(jaccard(fingerprint(words), fingerprint(other))).toBe(0);
  });

  it('keeps what the supporter added and drops what the template wrote', () => {
    const template = fingerprint('Dear delegation, this matters to me. Yours sincerely, Ada');
    const letter = fingerprint(`Dear delegation, this matters to me. ${words} Yours sincerely, Ada`);
    const own = contribution(letter, template);
    expect(own.length).toBeGreaterThan(0);
    expect(contribution(template, template)).toHaveLength(0);
    expect(jaccard(own, fingerprint(words))).toBeGreaterThan(0.6);
  });

  it('survives a round trip through a database blob', () => {
    const print = fingerprint(words);
    expect(Array.from(fromBlob(Buffer.from(toBlob(print))))).toEqual(Array.from(print));
  });

  it('gives identical texts the same bands, so the index finds them', () => {
    expect(bands(fingerprint(words))).toEqual(bands(fingerprint(words.toLowerCase())));
    expect(bands(new Uint32Array(0))).toEqual([]);
  });

  it('makes texts with Jaccard ≥ 0.8 share a band (property)', () => {
    const vocabulary = fc.constantFrom(
      ...'the a war peace school tax money child law arms mine treaty people town'.split(' '),
    );
    fc.assert(
      fc.property(fc.array(vocabulary, { minLength: 30, maxLength: 60 }), fc.nat(), (list, at) => {
        const a = list.join(' ');
        const changed = [...list];
        changed[at % changed.length] = 'zebra';
        const b = changed.join(' ');
        const fa = fingerprint(a);
        const fb = fingerprint(b);
        if (jaccard(fa, fb) < 0.8) return true;
        const shared = bands(fa).filter((k) => bands(fb).includes(k));
        return shared.length > 0;
      }),
      { numRuns: 300, seed: 20251126 },
    );
  });
});

describe('ownContribution', () => {
  const template = (own: string) =>
    `Dear delegation,\n\nThis matters to me personally:\n\n${own}\n\nYours sincerely,\nAda`;
  const print = (own: string, text = template(own)) => ownContribution(text, template(own), template(''), own);

  it('is the supporter’s words, without the seams where the template meets them', () => {
    const a = print('I live near the border and fear for my children.');
    const b = print('I taught history for thirty years in a town school.');
    // Both start with "I": the seam "personally i ..." would make them look alike; it is left out.
    expect(jaccard(a, b)).toBe(0);
    expect(jaccard(a, fingerprint('I live near the border and fear for my children.'))).toBe(1);
  });

  it('counts edits anywhere in the letter as the supporter’s own', () => {
    const own = 'I live near the border and fear for my children.';
    const edited = template(own).replace('Dear delegation,', 'Dear delegation, thank you for reading.');
    expect(print(own, edited).length).toBeGreaterThan(print(own).length);
  });

  it('is empty when only the template is left, and keeps very short words that are still there', () => {
    expect(print('I live near the border.', template(''))).toHaveLength(0);
    expect(print('Absolutely essential').length).toBe(1);
  });
});
