-- Signatures, the counters that page views read, and the outbox every mail goes through.
CREATE TABLE signatures (
  id INTEGER PRIMARY KEY,
  petition_id INTEGER NOT NULL REFERENCES petitions(id),
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  email_canonical TEXT NOT NULL,
  country_code TEXT NOT NULL REFERENCES countries(code),
  postcode TEXT,
  show_publicly INTEGER NOT NULL CHECK (show_publicly IN (0, 1)),
  updates_opt_in INTEGER NOT NULL CHECK (updates_opt_in IN (0, 1)),
  consent_version TEXT NOT NULL,
  consent_at INTEGER NOT NULL,
  ip_hash TEXT,
  locale TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'validated', 'fraudulent', 'invalidated')),
  fraud_reason TEXT,
  mails_sent INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  validated_at INTEGER,
  invalidated_at INTEGER,
  unsubscribed_at INTEGER
);
-- One signature per petition per canonical email (the UK Parliament petitions rule). Fraudulent rows
-- are left out so that a flagged attempt cannot lock the real owner of an address out.
CREATE UNIQUE INDEX signatures_one_per_email ON signatures (petition_id, email_canonical)
  WHERE state <> 'fraudulent';
CREATE INDEX signatures_recent_public ON signatures (petition_id, validated_at)
  WHERE state = 'validated' AND show_publicly = 1;
CREATE INDEX signatures_by_email ON signatures (email_canonical);

-- Kept up to date in the transaction that validates or invalidates, so no page runs COUNT(*).
CREATE TABLE petition_counts (
  petition_id INTEGER PRIMARY KEY REFERENCES petitions(id) ON DELETE CASCADE,
  validated INTEGER NOT NULL DEFAULT 0 CHECK (validated >= 0)
);
CREATE TABLE petition_country_counts (
  petition_id INTEGER NOT NULL REFERENCES petitions(id) ON DELETE CASCADE,
  country_code TEXT NOT NULL REFERENCES countries(code),
  validated INTEGER NOT NULL DEFAULT 0 CHECK (validated >= 0),
  PRIMARY KEY (petition_id, country_code)
);

-- Every outgoing mail. Written in the transaction that caused it; rendered and sent afterwards by
-- the outbox sender, which claims rows with a lease. The Message-ID is fixed at enqueue time so a
-- re-send after a crash carries the same one.
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  recipient TEXT NOT NULL,
  template TEXT NOT NULL,
  params TEXT NOT NULL,
  locale TEXT NOT NULL,
  message_id TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until INTEGER,
  last_error TEXT,
  relay_response TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
