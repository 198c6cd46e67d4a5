-- Identities at OAuth 2.0 / OpenID Connect providers linked to accounts:
-- a provider's subject signs in one account only, and an account has at
-- most one identity per provider. The address is what the provider said
-- at the last sign-in (shown to the user, never used to find the account
-- again: the subject is). Provider tokens are kept only when the provider
-- is configured to, sealed under a key the database does not hold.
-- Times are BIGINT microseconds since the Unix epoch (UTC).

CREATE TABLE identities (
    provider       TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    user_id        TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email          TEXT,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    tokens_sealed  TEXT,
    created_at     BIGINT  NOT NULL,
    last_used_at   BIGINT,
    PRIMARY KEY (provider, subject),
    UNIQUE (user_id, provider)
);
