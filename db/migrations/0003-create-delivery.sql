-- Signatures mailed to their targets in batches (digests), and the pause that an authentication
-- failure at the relay puts on all outgoing mail.
CREATE TABLE batches (
  id INTEGER PRIMARY KEY,
  petition_id INTEGER NOT NULL REFERENCES petitions(id),
  target_id INTEGER NOT NULL REFERENCES targets(id),
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed', 'dead')),
  signature_count INTEGER NOT NULL CHECK (signature_count >= 0),
  -- Signatures batched to this target for this petition so far, this batch included.
  running_total INTEGER NOT NULL,
  outbox_id INTEGER UNIQUE REFERENCES outbox(id),
  message_id TEXT UNIQUE,
  csv_sha256 TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER
);
CREATE INDEX batches_by_petition_target ON batches (petition_id, target_id);

-- A signature is in exactly one batch per target: the primary key is the guarantee.
CREATE TABLE batch_signatures (
  target_id INTEGER NOT NULL REFERENCES targets(id),
  signature_id INTEGER NOT NULL REFERENCES signatures(id) ON DELETE CASCADE,
  batch_id INTEGER NOT NULL REFERENCES batches(id),
  PRIMARY KEY (target_id, signature_id)
) WITHOUT ROWID;
CREATE INDEX batch_signatures_by_batch ON batch_signatures (batch_id, signature_id);

CREATE INDEX signatures_validated ON signatures (petition_id, country_code, id) WHERE state = 'validated';

-- One row while delivery is paused (the relay refused our credentials); none otherwise.
CREATE TABLE outbox_pause (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  reason TEXT NOT NULL,
  paused_at INTEGER NOT NULL,
  relay TEXT
);
