-- Failed logins per account and client address, so lockout can block the
-- address that guesses without blocking the owner elsewhere; and when each
-- client last logged in, so a client that has logged in before is not
-- refused for failures from other places. Times are INTEGER microseconds
-- since the Unix epoch (UTC). `client` is the canonical address, or '' for
-- logins that name none.

CREATE TABLE login_clients (
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client          TEXT    NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    last_success_at INTEGER,
    PRIMARY KEY (user_id, client)
);
