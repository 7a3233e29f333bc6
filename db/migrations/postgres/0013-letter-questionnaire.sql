-- PostgreSQL twin of db/migrations/0013-letter-questionnaire.sql.
-- "Did your letter get a reply?" (mySociety WriteToThem's questionnaire): 14 days after a letter was
-- delivered or sent by its writer, one mail asks; one reminder at 21 days. Writers may say on the
-- letter form that they do not want to be asked (ask_reply = 0). Letters written before the form
-- offered that choice are never asked: their writers had no chance to say no.
ALTER TABLE letters ADD COLUMN ask_reply INTEGER NOT NULL DEFAULT 1 CHECK (ask_reply IN (0, 1));
UPDATE letters SET ask_reply = 0;
-- Letters by the time they went out, for the sweep that asks (and the responsiveness table).
CREATE INDEX letters_by_sent_at ON letters (sent_at) WHERE state IN ('sent', 'self_sent');

-- One row per letter asked (the row is the claim: a second process finds it and mails nothing), and
-- its writer's answer. The answer may change; `counted_answer` is the last one given within 4 weeks of
-- the letter, the one the statistics read. No personal data: it goes with its letter.
CREATE TABLE letter_replies (
  letter_id BIGINT PRIMARY KEY REFERENCES letters(id) ON DELETE CASCADE,
  asked_at BIGINT NOT NULL,
  reminded_at BIGINT,
  answer TEXT CHECK (answer IN ('yes', 'yes_unaddressed', 'acknowledgement', 'no', 'not_expected')),
  answered_at BIGINT,
  counted_answer TEXT
    CHECK (counted_answer IN ('yes', 'yes_unaddressed', 'acknowledgement', 'no', 'not_expected'))
);
CREATE INDEX letter_replies_unanswered ON letter_replies (asked_at) WHERE answer IS NULL AND reminded_at IS NULL;
