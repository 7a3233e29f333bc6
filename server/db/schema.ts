import type { Generated } from 'kysely';

/**
 * The tables as the query builder sees them, mirroring db/migrations (SQLite) and
 * db/migrations/postgres. Times are epoch milliseconds (INTEGER / BIGINT), flags are 0 or 1, so one
 * query reads the same on both databases. States are the unions the services use, kept in step
 * with the CHECK constraints.
 */
type Flag = 0 | 1;
/** server/letters/replies/replyAnswers.ts */
type ReplyAnswer = 'yes' | 'yes_unaddressed' | 'acknowledgement' | 'no' | 'not_expected';

export interface DB {
  schema_migrations: { version: number; name: string; applied_at: number };
  countries: { code: string; nato_member: Generated<Flag>; nato_joined: number | null };
  campaigns: {
    id: Generated<number>;
    slug: string;
    source_author: string;
    source_title: string;
    source_publication: string;
    source_year: number | null;
  };
  campaign_texts: { campaign_id: number; lang: string; title: string; intro: string; source_role: string };
  demands: { id: Generated<number>; campaign_id: number; slug: string; position: number };
  demand_texts: { demand_id: number; lang: string; title: string; summary: string };
  petitions: {
    id: Generated<number>;
    demand_id: number | null;
    slug: string;
    goal: number;
    state: Generated<'open' | 'closed'>;
    created_at: number;
    closed_at: number | null;
    /** When the petition closes itself (epoch ms), if it has a closing date. */
    closes_at: number | null;
  };
  petition_texts: { petition_id: number; lang: string; title: string; body: string };
  targets: {
    id: Generated<number>;
    kind: Generated<'nato_delegation' | 'parliamentary_assembly' | 'minister'>;
    country_code: string;
    name: string;
    name_is_placeholder: Generated<Flag>;
    languages: Generated<string>;
    email: string | null;
    website: string | null;
    is_default: Generated<Flag>;
    created_at: number;
    updated_at: number;
    postal_address: string | null;
    force_post: Generated<Flag>;
  };
  petition_targets: { petition_id: number; target_id: number };
  signatures: {
    id: Generated<number>;
    petition_id: number;
    name: string;
    email: string;
    email_canonical: string;
    country_code: string;
    postcode: string | null;
    show_publicly: Flag;
    updates_opt_in: Flag;
    consent_version: string;
    consent_at: number;
    ip_hash: string | null;
    locale: string;
    state: Generated<'pending' | 'validated' | 'fraudulent' | 'invalidated'>;
    fraud_reason: string | null;
    mails_sent: Generated<number>;
    created_at: number;
    validated_at: number | null;
    invalidated_at: number | null;
    unsubscribed_at: number | null;
    anonymised_at: number | null;
    mail_window_at: Generated<number>;
    attempted_at: Generated<number>;
    /** Where the signer came from: `?source=` or utm_* (migration 0014); null when unknown. */
    source: string | null;
  };
  petition_counts: { petition_id: number; validated: Generated<number> };
  petition_country_counts: { petition_id: number; country_code: string; validated: Generated<number> };
  outbox: {
    id: Generated<number>;
    kind: string;
    recipient: string;
    template: string;
    params: string;
    locale: string;
    message_id: string;
    state: Generated<'queued' | 'sending' | 'sent' | 'failed' | 'dead'>;
    attempts: Generated<number>;
    next_attempt_at: number;
    lease_until: number | null;
    last_error: string | null;
    relay_response: string | null;
    created_at: number;
    sent_at: number | null;
  };
  batches: {
    id: Generated<number>;
    petition_id: number;
    target_id: number;
    state: Generated<'queued' | 'sent' | 'failed' | 'dead'>;
    signature_count: number;
    running_total: number;
    outbox_id: number | null;
    message_id: string | null;
    csv_sha256: string | null;
    created_at: number;
    sent_at: number | null;
    channel: Generated<'email' | 'post'>;
    letter_count: Generated<number>;
    handed_in_at: number | null;
    handed_in_how: string | null;
    handed_in_reference: string | null;
    handed_in_note: string | null;
    recorded_at: number | null;
    recorded_by: number | null;
  };
  batch_signatures: { target_id: number; signature_id: number; batch_id: number };
  batch_letters: { letter_id: number; batch_id: number };
  campaign_updates: {
    id: Generated<number>;
    petition_id: number;
    subject_en: string;
    body_en: string;
    subject_fr: Generated<string>;
    body_fr: Generated<string>;
    countries: Generated<string>;
    idempotency_key: string;
    state: Generated<'writing' | 'written'>;
    cursor: Generated<number>;
    recipients: Generated<number>;
    starts_at: number;
    created_by: number | null;
    created_at: number;
    written_at: number | null;
  };
  delegation_responses: {
    id: Generated<number>;
    target_id: number;
    petition_id: number | null;
    demand_id: number | null;
    /** YYYY-MM-DD, the day it was received. */
    received_on: string;
    channel: 'email' | 'letter' | 'meeting' | 'phone' | 'public_statement' | 'other';
    body: string;
    link: string | null;
    is_public: Generated<Flag>;
    created_by: number | null;
    created_at: number;
    updated_at: number;
  };
  campaign_update_recipients: { update_id: number; signature_id: number; outbox_id: number };
  outbox_pause: { id: number; reason: string; paused_at: number; relay: string | null };
  letters: {
    id: Generated<number>;
    demand_id: number;
    target_id: number;
    country_code: string;
    delivery: 'email' | 'post' | 'self';
    name: string;
    email: string;
    email_canonical: string;
    town: string | null;
    lang: 'en' | 'fr';
    locale: 'en' | 'fr';
    copy_requested: Generated<Flag>;
    fingerprint: Buffer;
    state: Generated<'pending' | 'ready' | 'sent' | 'failed' | 'expired' | 'held' | 'self_sent' | 'dropped'>;
    hold_reason: string | null;
    ip_hash: string | null;
    mails_sent: Generated<number>;
    day: string;
    created_at: number;
    updated_at: number;
    confirmed_at: number | null;
    sent_at: number | null;
    /** 0: the writer asked not to be asked whether they got a reply (migration 0013). */
    ask_reply: Generated<Flag>;
    /** Where the writer came from, as for signatures (migration 0014). */
    source: string | null;
  };
  /** The "did you get a reply?" questionnaire, one row per letter asked (migration 0013). */
  letter_replies: {
    letter_id: number;
    asked_at: number;
    reminded_at: number | null;
    answer: ReplyAnswer | null;
    answered_at: number | null;
    counted_answer: ReplyAnswer | null;
  };
  letter_texts: { letter_id: number; own_words: string; body: string };
  letter_bands: { demand_id: number; band_key: number; letter_id: number; created_at: number };
  letter_country_counts: {
    demand_id: number;
    country_code: string;
    sent: Generated<number>;
    self_sent: Generated<number>;
    /** The part of `sent` handed in with a hand-in pack (migration 0010). */
    posted: Generated<number>;
  };
  organisers: {
    id: Generated<number>;
    email: string;
    password_hash: string;
    role: 'admin' | 'organiser' | 'viewer';
    failed_logins: Generated<number>;
    locked_until: number | null;
    created_at: number;
    disabled: Generated<Flag>;
  };
  sessions: { sid: string; data: string; expires_at: number };
  rate_hits: { key: string; bucket: number; hits: number };
  audit_log: {
    id: Generated<number>;
    at: number;
    organiser_id: number | null;
    action: string;
    subject: string | null;
    details: Generated<string>;
  };
}
