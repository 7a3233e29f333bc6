import type { Lang } from '../i18n/i18n';
import type { LetterState } from './letterStates';

/** Letters as the repository reads and writes them. */
/** 'email': the platform mails it; 'post': it joins the target's next hand-in pack; 'self': the supporter sends it. */
export type Delivery = 'email' | 'post' | 'self';

export interface Letter {
  id: number;
  demandId: number;
  targetId: number;
  country: string;
  delivery: Delivery;
  name: string;
  email: string;
  emailCanonical: string;
  town: string | null;
  lang: Lang;
  locale: Lang;
  copyRequested: boolean;
  /** False when the writer asked not to be asked whether they got a reply. */
  askReply: boolean;
  state: LetterState;
  holdReason: string | null;
  mailsSent: number;
  createdAt: number;
  confirmedAt: number | null;
  sentAt: number | null;
}

export interface NewLetter {
  demandId: number;
  targetId: number;
  country: string;
  delivery: Delivery;
  name: string;
  email: string;
  emailCanonical: string;
  town: string | null;
  ownWords: string;
  body: string;
  lang: Lang;
  locale: Lang;
  copyRequested: boolean;
  askReply: boolean;
  fingerprint: Buffer;
  ipHash: string | null;
  day: string;
  now: number;
  /** Where the writer came from (server/sources/sourceCode.ts), or null. */
  source?: string | null;
}

export interface Demand {
  id: number;
  slug: string;
  title: string;
  summary: string;
  petitionSlug: string | null;
}

export interface LetterCountryCount {
  country: string;
  /** Every letter the platform delivered: by email and with hand-in packs. */
  sent: number;
  /** The part of `sent` handed in with a pack. */
  posted: number;
  selfSent: number;
}

export interface HeldLetter {
  id: number;
  demandSlug: string;
  country: string;
  name: string;
  ownWords: string;
  holdReason: string | null;
  createdAt: number;
}

export interface SimilarCandidate {
  id: number;
  emailCanonical: string;
  fingerprint: Buffer;
}
