-- Passkeys (WebAuthn credentials): the credential as webauthn-rs keeps it
-- (public key, algorithm, signature counter, backup flags; JSON, nothing
-- secret), with the counter and flags also in columns for listings and for
-- the conditional update that refuses a counter going backwards.
-- Times are INTEGER microseconds since the Unix epoch (UTC).

CREATE TABLE passkeys (
    id              TEXT    PRIMARY KEY,
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    credential      TEXT    NOT NULL,
    sign_count      INTEGER  NOT NULL DEFAULT 0,
    backup_eligible INTEGER NOT NULL DEFAULT 0,
    backup_state    INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER  NOT NULL,
    last_used_at    INTEGER
);

CREATE INDEX passkeys_user ON passkeys (user_id);
