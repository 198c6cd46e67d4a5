-- Second factors: a TOTP secret per account (sealed under a key the
-- database does not hold, and the last time step accepted, so no code is
-- accepted twice) and single-use recovery codes, kept as keyed hashes.
-- Times are BIGINT microseconds since the Unix epoch (UTC), as in SQLite.

CREATE TABLE mfa_totp (
    user_id        TEXT    PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed  TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    confirmed_at   BIGINT,
    last_used_step BIGINT
);

CREATE TABLE mfa_recovery_codes (
    user_id   TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);
