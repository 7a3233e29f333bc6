import type { Lang } from '../i18n/i18n';

/**
 * Everything a hand-in pack prints, gathered by the packs service and rendered to PDF by
 * packPdf.ts. Rows come as async iterables so that a pack of any size renders in bounded memory:
 * the renderer may iterate `signers()` and `letters()` more than once (e.g. to count pages first),
 * each call starting a fresh pass in the same order.
 */
export interface PackDocument {
  /** The batch this pack is (a postal batch). */
  batchId: number;
  /** The delegation's language for the cover letter: English or French. */
  lang: Lang;
  target: {
    name: string;
    /** Country name in `lang`. */
    countryName: string;
    /** The address block, one line per comma-separated part, as stored on the target. */
    postalAddress: string;
  };
  petition: { slug: string; title: string; body: string; demandTitle: string | null };
  campaign: { sourceAuthor: string; sourceTitle: string; sourcePublication: string };
  /** When the pack was made (its batch was planned), epoch ms. */
  createdAt: number;
  totals: {
    /** Signatures in this pack (still valid). */
    thisPack: number;
    /** Signatures delivered to this delegation for this petition so far, this pack included. */
    runningTotal: number;
    /** Of this pack: signers from the delegation's country, and from other Allies. */
    fromCountry: number;
    fromOthers: number;
    letters: number;
  };
  integrity: {
    /** Every signature in the pack was confirmed by its signer from an email link (always true). */
    confirmedByEmail: true;
    /** Signatures of this petition that organisers invalidated (all time, this delegation's share). */
    invalidated: number;
    /** First and last dates signed in this pack, epoch ms (null when the pack holds only letters). */
    firstSigned: number | null;
    lastSigned: number | null;
  };
  /** SHA-256 (hex) of the pack's CSV (the same rows, the digest CSV format). */
  csvSha256: string;
  /** Short public address where anyone can check the pack, e.g. https://example.org/verify/1a2b3c4d5e6f. */
  verifyUrl: string;
  signers(): AsyncIterable<PackSigner>;
  letters(): AsyncIterable<PackLetter>;
}

export interface PackSigner {
  name: string;
  /** Only where the signer's consent wording says their town/postcode goes to the delegations. */
  town: string | null;
  countryName: string;
  /** Date signed (validated), epoch ms. */
  signedAt: number;
}

export interface PackLetter {
  name: string;
  town: string | null;
  /** The letter as confirmed by its writer (plain text, paragraphs separated by blank lines). */
  body: string;
  confirmedAt: number;
}
