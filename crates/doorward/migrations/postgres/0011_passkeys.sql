-- Passkeys (WebAuthn credentials): the credential as webauthn-rs keeps it
-- (public key, algorithm, signature counter, backup flags; JSON, nothing
-- secret), with the counter and flags also in columns for listings and for
-- the conditional update that refuses a counter going backwards.
-- Times are BIGINT microseconds since the Unix epoch (UTC).

CREATE TABLE passkeys (
    id              TEXT    PRIMARY KEY,
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    credential      TEXT    NOT NULL,
    sign_count      BIGINT  NOT NULL DEFAULT 0,
    backup_eligible BOOLEAN NOT NULL DEFAULT FALSE,
    backup_state    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT  NOT NULL,
    last_used_at    BIGINT
);

CREATE INDEX passkeys_user ON passkeys (user_id);
