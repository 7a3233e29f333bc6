-- The letter mails one address got today, whatever the demand and delegation: read on every letter
-- written, to cap them per canonical address per UTC day (a stranger cannot mail-bomb an address).
CREATE INDEX letters_by_address ON letters (email_canonical, day);
