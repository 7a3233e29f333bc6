-- PostgreSQL twin of db/migrations/0010-letter-counts-by-channel.sql.
-- The demand page counts letters by how they reached their delegation: by email, handed in with a
-- hand-in pack, or sent by supporters themselves. `sent` stays every letter the platform delivered
-- (email and pack alike); `posted` is the part of it handed in with a pack.
ALTER TABLE letter_country_counts ADD COLUMN posted INTEGER NOT NULL DEFAULT 0 CHECK (posted >= 0);
UPDATE letter_country_counts SET posted = (
  SELECT count(*) FROM letters l
  WHERE l.demand_id = letter_country_counts.demand_id AND l.country_code = letter_country_counts.country_code
    AND l.delivery = 'post' AND l.state = 'sent');
