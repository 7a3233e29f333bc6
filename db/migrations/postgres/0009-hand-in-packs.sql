-- PostgreSQL twin of db/migrations/0009-hand-in-packs.sql (times are epoch milliseconds, BIGINT).
ALTER TABLE targets ADD COLUMN postal_address TEXT;
ALTER TABLE targets ADD COLUMN force_post INTEGER NOT NULL DEFAULT 0 CHECK (force_post IN (0, 1));
UPDATE targets SET postal_address = name || ', NATO Headquarters, Boulevard Léopold III, 1110 Brussels, Belgium'
  WHERE kind = 'nato_delegation' AND postal_address IS NULL;

ALTER TABLE batches ADD COLUMN channel TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'post'));
ALTER TABLE batches ADD COLUMN letter_count INTEGER NOT NULL DEFAULT 0 CHECK (letter_count >= 0);
ALTER TABLE batches ADD COLUMN handed_in_at BIGINT;
ALTER TABLE batches ADD COLUMN handed_in_how TEXT;
ALTER TABLE batches ADD COLUMN handed_in_reference TEXT;
ALTER TABLE batches ADD COLUMN handed_in_note TEXT;
ALTER TABLE batches ADD COLUMN recorded_at BIGINT;
ALTER TABLE batches ADD COLUMN recorded_by BIGINT REFERENCES organisers(id) ON DELETE SET NULL;
CREATE INDEX batches_by_sha ON batches (csv_sha256);

CREATE TABLE batch_letters (
  letter_id BIGINT PRIMARY KEY REFERENCES letters(id) ON DELETE CASCADE,
  batch_id BIGINT NOT NULL REFERENCES batches(id)
);
CREATE INDEX batch_letters_by_batch ON batch_letters (batch_id, letter_id);

ALTER TABLE letters DROP CONSTRAINT letters_delivery_check;
ALTER TABLE letters ADD CONSTRAINT letters_delivery_check CHECK (delivery IN ('email', 'post', 'self'));
CREATE INDEX letters_for_packs ON letters (target_id, demand_id, id) WHERE delivery = 'post' AND state = 'ready';
