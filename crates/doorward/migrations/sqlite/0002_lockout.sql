-- Lockout state: failed logins in a row, and until when (microseconds since
-- the Unix epoch, UTC) the account refuses logins.

ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER;
