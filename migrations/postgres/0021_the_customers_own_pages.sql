-- PostgreSQL's form of migrations/0021: customer links, and consents and confirmations that a
-- page records with its own evidence.
CREATE TABLE customer_links (
    id              TEXT PRIMARY KEY,
    token_sha256    TEXT NOT NULL UNIQUE CHECK (length(token_sha256) = 64),
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    purpose         TEXT NOT NULL CHECK (purpose IN ('consent', 'activation', 'withdrawal', 'cancellation', 'offer')),
    consent_purpose TEXT CHECK (consent_purpose IS NULL OR consent_purpose IN ('credit_assessment', 'credit_line')),
    offer_id        TEXT,
    decision_id     TEXT,
    return_url      TEXT NOT NULL,
    locale          TEXT CHECK (locale IS NULL OR locale IN ('zh-CN', 'en')),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    shown_at        TEXT,
    used_at         TEXT,
    outcome         TEXT,
    subject_id      TEXT,
    used_locale     TEXT CHECK (used_locale IS NULL OR used_locale IN ('zh-CN', 'en')),
    page_sha256     TEXT CHECK (page_sha256 IS NULL OR length(page_sha256) = 64),
    CHECK ((used_at IS NULL) = (outcome IS NULL) AND (used_at IS NULL) = (page_sha256 IS NULL))
);

CREATE INDEX customer_links_account ON customer_links (account_id, created_at);

CREATE TRIGGER customer_links_used_fixed BEFORE UPDATE ON customer_links
FOR EACH ROW WHEN (OLD.used_at IS NOT NULL)
EXECUTE FUNCTION creditline_refuse('a used customer link is immutable');

ALTER TABLE consents DROP CONSTRAINT consents_channel_check;
ALTER TABLE consents ADD CONSTRAINT consents_channel_check
    CHECK (channel IN ('app', 'web', 'phone', 'branch', 'hosted'));
ALTER TABLE consents DROP CONSTRAINT consents_status_check;
ALTER TABLE consents ADD CONSTRAINT consents_status_check
    CHECK (status IN ('active', 'withdrawn', 'expired', 'declined'));
ALTER TABLE consents DROP CONSTRAINT consents_withdrawal_channel_check;
ALTER TABLE consents ADD CONSTRAINT consents_withdrawal_channel_check
    CHECK (withdrawal_channel IS NULL OR withdrawal_channel IN ('app', 'web', 'phone', 'branch', 'hosted'));
ALTER TABLE consents ADD COLUMN link_id TEXT REFERENCES customer_links (id);
ALTER TABLE consents ADD COLUMN notice_locale TEXT CHECK (notice_locale IS NULL OR notice_locale IN ('zh-CN', 'en'));
ALTER TABLE consents ADD COLUMN page_sha256 TEXT CHECK (page_sha256 IS NULL OR length(page_sha256) = 64);
ALTER TABLE consents ADD COLUMN shown_at TEXT;
ALTER TABLE consents ADD CONSTRAINT consents_hosted_has_link CHECK ((channel = 'hosted') = (link_id IS NOT NULL));
ALTER TABLE consents ADD CONSTRAINT consents_declined_on_a_page CHECK (status <> 'declined' OR channel = 'hosted');

CREATE INDEX consents_declined ON consents (account_id, purpose, granted_at) WHERE status = 'declined';

DROP TRIGGER consents_evidence_fixed ON consents;
CREATE TRIGGER consents_evidence_fixed BEFORE UPDATE OF
    account_id, purpose, notice_version, notice_sha256, channel, method, evidence, granted_at, expires_at, link_id,
    notice_locale, page_sha256, shown_at ON consents
FOR EACH ROW EXECUTE FUNCTION creditline_refuse('consent evidence is immutable');

ALTER TABLE customer_confirmations DROP CONSTRAINT customer_confirmations_channel_check;
ALTER TABLE customer_confirmations ADD CONSTRAINT customer_confirmations_channel_check
    CHECK (channel IN ('app', 'web', 'phone', 'branch', 'hosted'));
ALTER TABLE customer_confirmations ADD COLUMN link_id TEXT REFERENCES customer_links (id);
ALTER TABLE customer_confirmations ADD CONSTRAINT customer_confirmations_hosted_has_link
    CHECK ((channel = 'hosted') = (link_id IS NOT NULL));
