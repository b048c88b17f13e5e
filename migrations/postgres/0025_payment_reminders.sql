-- PostgreSQL's form of migrations/0025: the customer's time zone and reminder channels, each
-- reminder written, a notice's allowed channels and the payment_reminder notice kind.
ALTER TABLE accounts ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Asia/Shanghai' CHECK (length(time_zone) BETWEEN 1 AND 64);
ALTER TABLE accounts ADD COLUMN reminder_channels TEXT;

CREATE TABLE payment_reminders (
    account_id     TEXT   NOT NULL REFERENCES accounts (id),
    episode_due_on TEXT   NOT NULL CHECK (length(episode_due_on) = 10),
    milestone      BIGINT NOT NULL CHECK (milestone >= 1),
    notice_id      TEXT   NOT NULL REFERENCES notices (id),
    created_at     TEXT   NOT NULL,
    PRIMARY KEY (account_id, episode_due_on, milestone)
);

CREATE INDEX payment_reminders_recent ON payment_reminders (account_id, created_at);

ALTER TABLE notices ADD COLUMN channels TEXT;
ALTER TABLE notices DROP CONSTRAINT notices_kind_check;
ALTER TABLE notices ADD CONSTRAINT notices_kind_check CHECK (kind IN ('activation_confirmation', 'adverse_action',
    'review_outcome', 'limit_change', 'line_frozen', 'line_unfrozen', 'consent_expiring', 'pre_report_warning',
    'limit_offer', 'terms_change', 'hardship_plan', 'refund', 'payment_reminder'));
