-- Campaign updates organisers send to a petition's opted-in signers. An update is written to the
-- outbox in chunks (a large audience never holds one long transaction), each row due at a time that
-- keeps sending under UPDATES_PER_MINUTE; `cursor` is the last signature id written.
CREATE TABLE campaign_updates (
  id INTEGER PRIMARY KEY,
  petition_id INTEGER NOT NULL REFERENCES petitions(id),
  subject_en TEXT NOT NULL,
  body_en TEXT NOT NULL,
  subject_fr TEXT NOT NULL DEFAULT '',
  body_fr TEXT NOT NULL DEFAULT '',
  -- Comma-separated ISO codes of the signers' countries; empty: every country.
  countries TEXT NOT NULL DEFAULT '',
  -- One per form shown: a double click or a retried POST finds the update already made.
  idempotency_key TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL DEFAULT 'writing' CHECK (state IN ('writing', 'written')),
  cursor INTEGER NOT NULL DEFAULT 0,
  recipients INTEGER NOT NULL DEFAULT 0,
  -- When the first mail may go; later chunks are spread from it at UPDATES_PER_MINUTE.
  starts_at INTEGER NOT NULL,
  created_by INTEGER REFERENCES organisers(id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  written_at INTEGER
);
CREATE INDEX campaign_updates_by_petition ON campaign_updates (petition_id, id);
CREATE INDEX campaign_updates_writing ON campaign_updates (id) WHERE state = 'writing';

-- Who an update went to: one row per signer per update (the key keeps a chunk written twice from
-- mailing anyone twice), with the outbox row that carries it, for the update's progress.
CREATE TABLE campaign_update_recipients (
  update_id INTEGER NOT NULL REFERENCES campaign_updates(id),
  signature_id INTEGER NOT NULL REFERENCES signatures(id) ON DELETE CASCADE,
  outbox_id INTEGER NOT NULL,
  PRIMARY KEY (update_id, signature_id)
);
CREATE INDEX campaign_update_recipients_by_outbox ON campaign_update_recipients (outbox_id);

-- The audience, read in signature order per petition.
CREATE INDEX signatures_opted_in ON signatures (petition_id, id) WHERE state = 'validated' AND updates_opt_in = 1;
