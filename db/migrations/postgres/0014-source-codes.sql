-- PostgreSQL twin of db/migrations/0014-source-codes.sql.
-- Source codes: which channel brought a signer or a letter writer in (`?source=`, or the campaign's
-- `utm_source`, `utm_medium` and `utm_campaign`), as one text: the `source` parameter if given,
-- else the three utm values joined by "/" ("newsletter/email/spring"). Each part holds only
-- [A-Za-z0-9._-] and at most 64 characters (server/sources/sourceCode.ts); NULL when none came.
ALTER TABLE signatures ADD COLUMN source TEXT;
ALTER TABLE letters ADD COLUMN source TEXT;
-- The console's "signatures by source" counts a petition's validated signatures per source.
CREATE INDEX signatures_by_source ON signatures (petition_id, source) WHERE state = 'validated';
