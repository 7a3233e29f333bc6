-- PostgreSQL twin of db/migrations/0006-signature-mail-window.sql (times BIGINT ms).
-- The cap on mails per signature counts per window of 24 hours from the first mail in it
-- (mail_window_at), not for ever: a stranger who spends the cap with someone's address delays its
-- owner by a day, instead of keeping them from signing. attempted_at is the last time anyone signed
-- with the address, written on every attempt, so that every answer to signing writes alike
-- (SECURITY 17). Rows from before start their window at their last attempt.
ALTER TABLE signatures ADD COLUMN mail_window_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE signatures ADD COLUMN attempted_at BIGINT NOT NULL DEFAULT 0;
UPDATE signatures SET mail_window_at = created_at, attempted_at = created_at;
