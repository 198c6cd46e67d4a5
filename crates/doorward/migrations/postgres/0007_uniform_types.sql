-- The tables of 0001 and 0002 in the types SQLite and every later table
-- use: times as BIGINT microseconds since the Unix epoch (UTC), counters
-- as BIGINT, a role's permissions as a JSON array in TEXT. One SQL text
-- and one decoder then serve both databases. Values are kept exactly: the
-- domain has always stored times to the microsecond.

ALTER TABLE users
    ALTER COLUMN created_at TYPE BIGINT
        USING ROUND(EXTRACT(EPOCH FROM created_at) * 1000000)::BIGINT,
    ALTER COLUMN updated_at TYPE BIGINT
        USING ROUND(EXTRACT(EPOCH FROM updated_at) * 1000000)::BIGINT,
    ALTER COLUMN last_login_at TYPE BIGINT
        USING ROUND(EXTRACT(EPOCH FROM last_login_at) * 1000000)::BIGINT,
    ALTER COLUMN locked_until TYPE BIGINT
        USING ROUND(EXTRACT(EPOCH FROM locked_until) * 1000000)::BIGINT,
    ALTER COLUMN failed_logins TYPE BIGINT;

ALTER TABLE roles
    ALTER COLUMN created_at TYPE BIGINT
        USING ROUND(EXTRACT(EPOCH FROM created_at) * 1000000)::BIGINT,
    ALTER COLUMN permissions DROP DEFAULT,
    ALTER COLUMN permissions TYPE TEXT USING array_to_json(permissions)::TEXT;

ALTER TABLE user_roles
    ALTER COLUMN granted_at TYPE BIGINT
        USING ROUND(EXTRACT(EPOCH FROM granted_at) * 1000000)::BIGINT;

ALTER TABLE sessions
    ALTER COLUMN created_at TYPE BIGINT
        USING ROUND(EXTRACT(EPOCH FROM created_at) * 1000000)::BIGINT,
    ALTER COLUMN expires_at TYPE BIGINT
        USING ROUND(EXTRACT(EPOCH FROM expires_at) * 1000000)::BIGINT,
    ALTER COLUMN last_refreshed_at TYPE BIGINT
        USING ROUND(EXTRACT(EPOCH FROM last_refreshed_at) * 1000000)::BIGINT,
    ALTER COLUMN revoked_at TYPE BIGINT
        USING ROUND(EXTRACT(EPOCH FROM revoked_at) * 1000000)::BIGINT;

ALTER TABLE refresh_tokens
    ALTER COLUMN created_at TYPE BIGINT
        USING ROUND(EXTRACT(EPOCH FROM created_at) * 1000000)::BIGINT,
    ALTER COLUMN expires_at TYPE BIGINT
        USING ROUND(EXTRACT(EPOCH FROM expires_at) * 1000000)::BIGINT,
    ALTER COLUMN used_at TYPE BIGINT
        USING ROUND(EXTRACT(EPOCH FROM used_at) * 1000000)::BIGINT;
