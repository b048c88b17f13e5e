-- Events, webhooks and notices (README "Events and notices"). Events and notices are written in
-- the transaction of the change they report (a transactional outbox), and so are the deliveries
-- owed to each webhook endpoint: nothing committed is lost to a crash before it is pushed.

CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    type        TEXT    NOT NULL,
    tenant      TEXT    NOT NULL,
    account_id  TEXT    REFERENCES accounts (id),
    occurred_at TEXT    NOT NULL,
    -- Ids, codes and amounts: never free text.
    data        TEXT    NOT NULL
) STRICT;

CREATE INDEX events_tenant ON events (tenant, seq);

CREATE TABLE webhook_endpoints (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL CHECK (length(tenant) BETWEEN 1 AND 32),
    url         TEXT NOT NULL,
    event_types TEXT NOT NULL,
    -- The signing secret must be readable to sign with; the database file is the service's alone.
    secret      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    deleted_at  TEXT
) STRICT;

CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant) WHERE deleted_at IS NULL;

CREATE TABLE webhook_deliveries (
    id              TEXT    PRIMARY KEY,
    endpoint_id     TEXT    NOT NULL REFERENCES webhook_endpoints (id),
    event_seq       INTEGER NOT NULL REFERENCES events (seq),
    account_id      TEXT,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- Retries run for webhook_retry_hours from here; a redelivery opens a new window.
    window_start    TEXT    NOT NULL,
    next_attempt_at TEXT    NOT NULL,
    last_attempt_at TEXT,
    last_status     INTEGER,
    last_error      TEXT,
    delivered_at    TEXT,
    UNIQUE (endpoint_id, event_seq)
) STRICT;

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_line ON webhook_deliveries (endpoint_id, account_id, event_seq) WHERE status = 'pending';

CREATE TABLE notices (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    kind             TEXT NOT NULL CHECK (kind IN ('activation_confirmation', 'adverse_action', 'review_outcome',
                         'limit_change', 'line_frozen', 'line_unfrozen', 'consent_expiring', 'pre_report_warning')),
    locale           TEXT NOT NULL CHECK (locale IN ('zh-CN', 'en')),
    text             TEXT NOT NULL,
    content_sha256   TEXT NOT NULL CHECK (length(content_sha256) = 64),
    template_version TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    due_by           TEXT NOT NULL,
    delivered_at     TEXT,
    channel          TEXT CHECK (channel IS NULL OR channel IN ('app', 'sms', 'email', 'letter', 'phone', 'branch'))
) STRICT;

CREATE INDEX notices_account ON notices (account_id, created_at);
CREATE INDEX notices_undelivered ON notices (due_by) WHERE delivered_at IS NULL;

-- The language an account's notices are written in.
ALTER TABLE accounts ADD COLUMN locale TEXT NOT NULL DEFAULT 'zh-CN' CHECK (locale IN ('zh-CN', 'en'));

-- A consent's coming end is announced once.
ALTER TABLE consents ADD COLUMN expiry_notice_id TEXT;
