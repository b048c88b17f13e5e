-- PostgreSQL's form of migrations/0008: where SQLite rebuilds a table, PostgreSQL alters it.
ALTER TABLE accounts ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default' CHECK (length(tenant) BETWEEN 1 AND 32);
ALTER TABLE accounts ALTER COLUMN tenant DROP DEFAULT;
ALTER TABLE accounts DROP CONSTRAINT accounts_customer_ref_key;
ALTER TABLE accounts ADD CONSTRAINT accounts_tenant_customer_ref_key UNIQUE (tenant, customer_ref);

ALTER TABLE api_keys ADD COLUMN tenant TEXT CHECK (tenant IS NULL OR length(tenant) BETWEEN 1 AND 32);
ALTER TABLE api_keys ADD COLUMN person TEXT CHECK (person IS NULL OR length(person) BETWEEN 1 AND 64);
UPDATE api_keys SET tenant = 'default';

CREATE TRIGGER api_keys_service_has_a_tenant BEFORE INSERT ON api_keys
FOR EACH ROW WHEN (NEW.role = 'service' AND NEW.tenant IS NULL)
EXECUTE FUNCTION creditline_refuse('a service key belongs to exactly one tenant');

CREATE TRIGGER audit_log_seq_from_one BEFORE INSERT ON audit_log
FOR EACH ROW WHEN (NEW.seq < 1)
EXECUTE FUNCTION creditline_refuse('audit entries are numbered from 1');

CREATE TABLE storage_probe (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    at   TEXT   NOT NULL,
    room BYTEA
);
