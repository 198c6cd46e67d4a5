-- How each session was authenticated, so every access token it issues,
-- refreshed or not, carries the same assurance: the RFC 8176 methods
-- (a JSON list), the NIST authenticator assurance level, and when the
-- user last proved who they are (a step-up moves it).
-- Sessions from before this migration are level 1 with no methods on
-- record, authenticated when they started.

ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sessions ADD COLUMN aal BIGINT NOT NULL DEFAULT 1;
ALTER TABLE sessions ADD COLUMN auth_time BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET auth_time = created_at;
