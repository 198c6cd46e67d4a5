-- The transactional outbox, its consumers' positions, webhooks with their
-- delivery queue, and the hash-chained audit log. Times are BIGINT
-- microseconds since the Unix epoch (UTC).

CREATE TABLE outbox (
    seq         BIGSERIAL PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    event_type  TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    occurred_at BIGINT  NOT NULL,
    actor       TEXT,
    subject     TEXT,
    ip          TEXT,
    user_agent  TEXT,
    payload     TEXT    NOT NULL           -- JSON object
);

CREATE TABLE event_consumers (
    name        TEXT    PRIMARY KEY NOT NULL,
    position    BIGINT  NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT  NOT NULL
);

CREATE TABLE webhooks (
    id          TEXT    PRIMARY KEY NOT NULL,
    url         TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    event_types TEXT    NOT NULL,          -- JSON array; empty means all
    created_at  BIGINT  NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    webhook_id      TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_seq       BIGINT  NOT NULL REFERENCES outbox (seq),
    subject         TEXT,
    status          TEXT    NOT NULL,      -- pending, delivered, dead
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    updated_at      BIGINT  NOT NULL,
    UNIQUE (webhook_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_subject ON webhook_deliveries (webhook_id, subject, event_seq);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,  -- 1, 2, 3, ... no gaps
    event_id    TEXT    NOT NULL UNIQUE,
    event_type  TEXT    NOT NULL,
    occurred_at BIGINT  NOT NULL,
    actor       TEXT,
    subject     TEXT,
    ip          TEXT,
    user_agent  TEXT,
    outcome     TEXT    NOT NULL,
    details     TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_subject ON audit_log (subject, seq);
CREATE INDEX audit_log_time ON audit_log (occurred_at);
