-- PostgreSQL's migration 0007 brings its first tables to the types this
-- schema has always used (INTEGER microseconds, JSON text lists); SQLite
-- has nothing to change. Kept so both backends share version numbers.
SELECT 1;
