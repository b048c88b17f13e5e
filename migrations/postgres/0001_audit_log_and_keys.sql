-- PostgreSQL's form of migrations/0001 (README "Storage"): the same tables, columns and checks;
-- integers are BIGINT, bytes BYTEA, and SQLite's RAISE triggers are one refusing function.

-- Refuses the statement with the trigger's message: the audit log's append-only rule and the
-- consent ledger's immutability are the database's, whatever the code above it does.
CREATE FUNCTION creditline_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END
$$;

CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at         TEXT   NOT NULL,
    actor      TEXT   NOT NULL,
    role       TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    account_id TEXT,
    subject_id TEXT,
    detail     TEXT   NOT NULL,
    request_id TEXT   NOT NULL,
    prev_hash  TEXT   NOT NULL,
    hash       TEXT   NOT NULL
);

CREATE INDEX audit_log_account ON audit_log (account_id, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
FOR EACH ROW EXECUTE FUNCTION creditline_refuse('audit_log is append-only');

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION creditline_refuse('audit_log is append-only');

-- TRUNCATE fires no row trigger; SQLite has no TRUNCATE to refuse.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION creditline_refuse('audit_log is append-only');

CREATE TABLE api_keys (
    id          TEXT  PRIMARY KEY,
    name        TEXT  NOT NULL,
    role        TEXT  NOT NULL CONSTRAINT api_keys_role_check CHECK (role IN ('service', 'operator', 'auditor')),
    secret_hash BYTEA NOT NULL,
    created_at  TEXT  NOT NULL,
    revoked_at  TEXT
);
