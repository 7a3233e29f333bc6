-- Letters from supporters to a target (one addressee, see `targets`), about one demand.
-- States mirror server/letters/letterStates.ts, where the allowed transitions are listed.
CREATE TABLE letters (
  id INTEGER PRIMARY KEY,
  demand_id INTEGER NOT NULL REFERENCES demands(id),
  target_id INTEGER NOT NULL REFERENCES targets(id),
  -- The target's country (not where the supporter lives): what the per-country counters count.
  country_code TEXT NOT NULL REFERENCES countries(code),
  -- 'email': the platform sends it (the target has an address); 'self': the supporter sends it.
  delivery TEXT NOT NULL CHECK (delivery IN ('email', 'self')),
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  email_canonical TEXT NOT NULL,
  town TEXT,
  lang TEXT NOT NULL CHECK (lang IN ('en', 'fr')),
  locale TEXT NOT NULL CHECK (locale IN ('en', 'fr')),
  copy_requested INTEGER NOT NULL DEFAULT 0 CHECK (copy_requested IN (0, 1)),
  -- Sorted 32-bit hashes of the word shingles the supporter contributed (see similarity.ts).
  fingerprint BLOB NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'ready', 'sent', 'failed', 'expired', 'held', 'self_sent', 'dropped')),
  hold_reason TEXT,
  ip_hash TEXT,
  mails_sent INTEGER NOT NULL DEFAULT 0,
  -- UTC calendar day of creation, for the one-letter-a-day rule.
  day TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  confirmed_at INTEGER,
  sent_at INTEGER
);
-- The texts live apart, so that a letter's row stays small: its state changes twice on the way out,
-- and SQLite rewrites a whole row (and its overflow pages) on every update.
CREATE TABLE letter_texts (
  letter_id INTEGER PRIMARY KEY REFERENCES letters(id) ON DELETE CASCADE,
  own_words TEXT NOT NULL,
  body TEXT NOT NULL CHECK (length(body) <= 20000)
);

-- One letter per canonical email per target per demand per day.
CREATE UNIQUE INDEX letters_one_per_day ON letters (demand_id, target_id, email_canonical, day);
CREATE INDEX letters_pending ON letters (created_at) WHERE state = 'pending';
CREATE INDEX letters_held ON letters (created_at) WHERE state = 'held';

-- Locality-sensitive hashing bands of each letter's fingerprint: letters that share a band are
-- candidates for the near-duplicate check, found by index instead of scanning every letter.
CREATE TABLE letter_bands (
  demand_id INTEGER NOT NULL,
  band_key INTEGER NOT NULL,
  letter_id INTEGER NOT NULL REFERENCES letters(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (demand_id, band_key, letter_id)
) WITHOUT ROWID;
CREATE INDEX letter_bands_by_time ON letter_bands (created_at);

-- Kept up to date in the transaction that marks a letter sent or self-sent: page views never COUNT(*).
CREATE TABLE letter_country_counts (
  demand_id INTEGER NOT NULL REFERENCES demands(id),
  country_code TEXT NOT NULL REFERENCES countries(code),
  sent INTEGER NOT NULL DEFAULT 0 CHECK (sent >= 0),
  self_sent INTEGER NOT NULL DEFAULT 0 CHECK (self_sent >= 0),
  PRIMARY KEY (demand_id, country_code)
);
