-- A counter bumped by every password replacement. A session is only
-- inserted while the counter (and the enabled flag) still hold the values
-- its login read, so a login in flight cannot outlive a password change or
-- a disable that committed during its password check.

ALTER TABLE users ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 0;
