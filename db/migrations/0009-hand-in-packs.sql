-- migrate: foreign_keys off
-- Every delegation can be reached by post (issue: hand-in packs). A target gets a postal address
-- and can be set to post even when it has an email; a batch has a channel, and a postal batch (a
-- hand-in pack) is sent when an organiser records it as handed in or posted. Letters to a target
-- without an email can travel in the next pack (delivery 'post').

ALTER TABLE targets ADD COLUMN postal_address TEXT;
-- 1: deliver by post even when an email is known (some delegations want paper).
ALTER TABLE targets ADD COLUMN force_post INTEGER NOT NULL DEFAULT 0 CHECK (force_post IN (0, 1));
-- Every NATO delegation sits at NATO Headquarters (sources: campaign research, nato-members.md).
UPDATE targets SET postal_address = name || ', NATO Headquarters, Boulevard Léopold III, 1110 Brussels, Belgium'
  WHERE kind = 'nato_delegation' AND postal_address IS NULL;

ALTER TABLE batches ADD COLUMN channel TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'post'));
ALTER TABLE batches ADD COLUMN letter_count INTEGER NOT NULL DEFAULT 0 CHECK (letter_count >= 0);
-- The hand-in record of a postal batch: when and how it reached the delegation, as the organiser
-- says (handed_in_at is the day it happened; recorded_at when it was recorded, for the 24-hour undo).
ALTER TABLE batches ADD COLUMN handed_in_at INTEGER;
ALTER TABLE batches ADD COLUMN handed_in_how TEXT;
ALTER TABLE batches ADD COLUMN handed_in_reference TEXT;
ALTER TABLE batches ADD COLUMN handed_in_note TEXT;
ALTER TABLE batches ADD COLUMN recorded_at INTEGER;
ALTER TABLE batches ADD COLUMN recorded_by INTEGER REFERENCES organisers(id) ON DELETE SET NULL;
CREATE INDEX batches_by_sha ON batches (csv_sha256);

-- A letter travels in at most one pack.
CREATE TABLE batch_letters (
  letter_id INTEGER PRIMARY KEY REFERENCES letters(id) ON DELETE CASCADE,
  batch_id INTEGER NOT NULL REFERENCES batches(id)
);
CREATE INDEX batch_letters_by_batch ON batch_letters (batch_id, letter_id);

-- letters.delivery gains 'post' (the letter joins the next hand-in pack). SQLite cannot change a
-- CHECK in place: the table is rebuilt (foreign keys are off while this migration runs).
CREATE TABLE letters_new (
  id INTEGER PRIMARY KEY,
  demand_id INTEGER NOT NULL REFERENCES demands(id),
  target_id INTEGER NOT NULL REFERENCES targets(id),
  country_code TEXT NOT NULL REFERENCES countries(code),
  -- 'email': the platform mails it; 'post': it joins the target's next hand-in pack;
  -- 'self': the supporter sends it.
  delivery TEXT NOT NULL CHECK (delivery IN ('email', 'post', 'self')),
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  email_canonical TEXT NOT NULL,
  town TEXT,
  lang TEXT NOT NULL CHECK (lang IN ('en', 'fr')),
  locale TEXT NOT NULL CHECK (locale IN ('en', 'fr')),
  copy_requested INTEGER NOT NULL DEFAULT 0 CHECK (copy_requested IN (0, 1)),
  fingerprint BLOB NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'ready', 'sent', 'failed', 'expired', 'held', 'self_sent', 'dropped')),
  hold_reason TEXT,
  ip_hash TEXT,
  mails_sent INTEGER NOT NULL DEFAULT 0,
  day TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  confirmed_at INTEGER,
  sent_at INTEGER
);
INSERT INTO letters_new SELECT id, demand_id, target_id, country_code, delivery, name, email, email_canonical,
  town, lang, locale, copy_requested, fingerprint, state, hold_reason, ip_hash, mails_sent, day, created_at,
  updated_at, confirmed_at, sent_at FROM letters;
DROP TABLE letters;
ALTER TABLE letters_new RENAME TO letters;
CREATE UNIQUE INDEX letters_one_per_day ON letters (demand_id, target_id, email_canonical, day);
CREATE INDEX letters_pending ON letters (created_at) WHERE state = 'pending';
CREATE INDEX letters_held ON letters (created_at) WHERE state = 'held';
CREATE INDEX letters_by_address ON letters (email_canonical, day);
-- Confirmed letters waiting for their target's next pack.
CREATE INDEX letters_for_packs ON letters (target_id, demand_id, id) WHERE delivery = 'post' AND state = 'ready';
