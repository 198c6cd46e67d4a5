-- Account flows: when an address was proven, and the one-time secrets that
-- prove it (email verification, password reset, sign-in by email, email
-- change). A flow keeps keyed hashes of its link secret and its code, never
-- the secrets; `sealed` holds them encrypted under the server's flow key
-- only until the mail carrying them has gone out. A flow for an address
-- with no account has no user and is kept all the same, so that asking
-- about an unknown address does the same work and answers the same.
-- Times are BIGINT microseconds since the Unix epoch (UTC), as in SQLite.

ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

CREATE TABLE one_time_secrets (
    id          TEXT    PRIMARY KEY,
    purpose     TEXT    NOT NULL,
    user_id     TEXT    REFERENCES users (id) ON DELETE CASCADE,
    address     TEXT    NOT NULL,
    link_hash   TEXT    NOT NULL,
    code_hash   TEXT    NOT NULL,
    sealed      TEXT,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    consumed_at BIGINT,
    attempts    BIGINT  NOT NULL DEFAULT 0
);

CREATE INDEX one_time_secrets_user ON one_time_secrets (user_id, purpose);
CREATE INDEX one_time_secrets_expires ON one_time_secrets (expires_at);
