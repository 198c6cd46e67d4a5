-- What the admin console's dashboard and sessions page read: logins per
-- hour from the audit log and live sessions across accounts by age,
-- without scanning either table.
CREATE INDEX audit_log_occurred_at ON audit_log (occurred_at);
CREATE INDEX sessions_created_at ON sessions (created_at, id);
