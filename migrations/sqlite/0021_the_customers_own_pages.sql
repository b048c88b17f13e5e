-- The customer's own pages (README "The customer's own pages"): a calling service asks for a
-- link, the customer acts on a page the service shows, and what they were shown is recorded by
-- the service itself. Only the token's SHA-256 is kept: the link in the customer's message is
-- the one copy of the token.
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
    -- The last time the page was shown before its action: opening a link does not use it.
    shown_at        TEXT,
    -- The first action uses the link, and says what it did to which record, on which page.
    used_at         TEXT,
    outcome         TEXT,
    subject_id      TEXT,
    used_locale     TEXT CHECK (used_locale IS NULL OR used_locale IN ('zh-CN', 'en')),
    page_sha256     TEXT CHECK (page_sha256 IS NULL OR length(page_sha256) = 64),
    CHECK ((used_at IS NULL) = (outcome IS NULL) AND (used_at IS NULL) = (page_sha256 IS NULL))
) STRICT;

CREATE INDEX customer_links_account ON customer_links (account_id, created_at);

-- A used link is evidence: nothing of it changes after its action.
CREATE TRIGGER customer_links_used_fixed BEFORE UPDATE ON customer_links
WHEN OLD.used_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a used customer link is immutable');
END;

-- Consents gain the pages' channel, the customer's refusal as a record of its own, and the
-- first-party evidence a page records (the link, the language, the page's SHA-256 and when it
-- was shown; the act's time is granted_at). The CHECKs are part of the table, so it is rebuilt.
CREATE TABLE consents_with_pages (
    id                 TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES accounts (id),
    purpose            TEXT NOT NULL CHECK (purpose IN ('credit_assessment', 'credit_line')),
    notice_version     TEXT NOT NULL,
    notice_sha256      TEXT NOT NULL CHECK (length(notice_sha256) = 64),
    channel            TEXT NOT NULL CHECK (channel IN ('app', 'web', 'phone', 'branch', 'hosted')),
    -- Storage refuses non-explicit consent too, whatever the code above it does.
    method             TEXT NOT NULL CHECK (method IN ('explicit_opt_in', 'written_signature')),
    evidence           TEXT CHECK (evidence IS NULL OR length(evidence) <= 256),
    status             TEXT NOT NULL CHECK (status IN ('active', 'withdrawn', 'expired', 'declined')),
    granted_at         TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    withdrawn_at       TEXT,
    withdrawal_channel TEXT CHECK (withdrawal_channel IS NULL OR withdrawal_channel IN ('app', 'web', 'phone', 'branch', 'hosted')),
    withdrawal_reason  TEXT,
    expiry_notice_id   TEXT,
    link_id            TEXT REFERENCES customer_links (id),
    notice_locale      TEXT CHECK (notice_locale IS NULL OR notice_locale IN ('zh-CN', 'en')),
    page_sha256        TEXT CHECK (page_sha256 IS NULL OR length(page_sha256) = 64),
    shown_at           TEXT,
    -- Only a page records a hosted consent, and a refusal is only ever recorded by a page.
    CHECK ((channel = 'hosted') = (link_id IS NOT NULL)),
    CHECK (status <> 'declined' OR channel = 'hosted')
) STRICT;

INSERT INTO consents_with_pages (id, account_id, purpose, notice_version, notice_sha256, channel, method, evidence,
                                 status, granted_at, expires_at, withdrawn_at, withdrawal_channel, withdrawal_reason,
                                 expiry_notice_id)
    SELECT id, account_id, purpose, notice_version, notice_sha256, channel, method, evidence, status, granted_at,
           expires_at, withdrawn_at, withdrawal_channel, withdrawal_reason, expiry_notice_id
    FROM consents;
DROP TABLE consents;
ALTER TABLE consents_with_pages RENAME TO consents;

CREATE INDEX consents_account ON consents (account_id, purpose, status);
CREATE INDEX consents_declined ON consents (account_id, purpose, granted_at) WHERE status = 'declined';
CREATE UNIQUE INDEX consents_one_active ON consents (account_id, purpose) WHERE status = 'active';

CREATE TRIGGER consents_no_reactivation BEFORE UPDATE OF status ON consents
WHEN OLD.status <> 'active' AND NEW.status <> OLD.status
BEGIN
    SELECT RAISE(ABORT, 'a withdrawn, expired or declined consent cannot change status');
END;

CREATE TRIGGER consents_evidence_fixed BEFORE UPDATE OF
    account_id, purpose, notice_version, notice_sha256, channel, method, evidence, granted_at, expires_at, link_id,
    notice_locale, page_sha256, shown_at ON consents
BEGIN
    SELECT RAISE(ABORT, 'consent evidence is immutable');
END;

-- A confirmation given on a page names its link; its notice_sha256 is the page's.
CREATE TABLE customer_confirmations_with_pages (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    subject_id    TEXT NOT NULL,
    channel       TEXT NOT NULL CHECK (channel IN ('app', 'web', 'phone', 'branch', 'hosted')),
    method        TEXT NOT NULL CHECK (method IN ('explicit_opt_in')),
    notice_sha256 TEXT NOT NULL CHECK (length(notice_sha256) = 64),
    confirmed_at  TEXT NOT NULL,
    link_id       TEXT REFERENCES customer_links (id),
    CHECK ((channel = 'hosted') = (link_id IS NOT NULL))
) STRICT;

INSERT INTO customer_confirmations_with_pages (id, account_id, subject_id, channel, method, notice_sha256, confirmed_at)
    SELECT id, account_id, subject_id, channel, method, notice_sha256, confirmed_at FROM customer_confirmations;
DROP TABLE customer_confirmations;
ALTER TABLE customer_confirmations_with_pages RENAME TO customer_confirmations;

CREATE INDEX customer_confirmations_account ON customer_confirmations (account_id, confirmed_at);
