-- Payment reminders (README "Payment reminders"): the customer's time zone and the channels
-- they allow reminders on, the channels a notice may be delivered by, and each reminder written
-- (one per milestone of an episode of arrears, the episode named by its oldest unpaid due date).
ALTER TABLE accounts ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Asia/Shanghai' CHECK (length(time_zone) BETWEEN 1 AND 64);
-- A JSON array of channels; NULL: the customer has not restricted them.
ALTER TABLE accounts ADD COLUMN reminder_channels TEXT;

CREATE TABLE payment_reminders (
    account_id     TEXT    NOT NULL REFERENCES accounts (id),
    episode_due_on TEXT    NOT NULL CHECK (length(episode_due_on) = 10),
    milestone      INTEGER NOT NULL CHECK (milestone >= 1),
    notice_id      TEXT    NOT NULL REFERENCES notices (id),
    created_at     TEXT    NOT NULL,
    PRIMARY KEY (account_id, episode_due_on, milestone)
) STRICT, WITHOUT ROWID;

-- The weekly cap counts an account's reminders by when they were written.
CREATE INDEX payment_reminders_recent ON payment_reminders (account_id, created_at);

-- A new notice kind, and the channels a notice may go by. The kind's CHECK is part of the
-- table, so it is rebuilt (foreign keys are off while a migration runs, README "Storage").
CREATE TABLE notices_with_reminders (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    kind             TEXT NOT NULL CHECK (kind IN ('activation_confirmation', 'adverse_action', 'review_outcome',
                         'limit_change', 'line_frozen', 'line_unfrozen', 'consent_expiring', 'pre_report_warning',
                         'limit_offer', 'terms_change', 'hardship_plan', 'refund', 'payment_reminder')),
    locale           TEXT NOT NULL CHECK (locale IN ('zh-CN', 'en')),
    text             TEXT NOT NULL,
    content_sha256   TEXT NOT NULL CHECK (length(content_sha256) = 64),
    template_version TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    due_by           TEXT NOT NULL,
    delivered_at     TEXT,
    channel          TEXT CHECK (channel IS NULL OR channel IN ('app', 'sms', 'email', 'letter', 'phone', 'branch')),
    received_at      TEXT,
    channels         TEXT
) STRICT;

INSERT INTO notices_with_reminders (id, account_id, kind, locale, text, content_sha256, template_version, created_at,
    due_by, delivered_at, channel, received_at)
SELECT id, account_id, kind, locale, text, content_sha256, template_version, created_at, due_by, delivered_at, channel,
    received_at FROM notices;
DROP TABLE notices;
ALTER TABLE notices_with_reminders RENAME TO notices;

CREATE INDEX notices_account ON notices (account_id, created_at);
CREATE INDEX notices_undelivered ON notices (due_by) WHERE delivered_at IS NULL;
