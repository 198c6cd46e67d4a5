-- Failed logins per account and client address, so lockout can block the
-- address that guesses without blocking the owner elsewhere; and when each
-- client last logged in, so a client that has logged in before is not
-- refused for failures from other places. Times are BIGINT microseconds
-- since the Unix epoch (UTC), as in SQLite, so one SQL text serves both.
-- `client` is the canonical address, or '' for logins that name none.

CREATE TABLE login_clients (
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client          TEXT    NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    last_success_at BIGINT,
    PRIMARY KEY (user_id, client)
);
