-- Every change of a line's terms is told to the customer (README "Activation, reviews and
-- limits"): a new notice kind.
ALTER TABLE notices DROP CONSTRAINT notices_kind_check;
ALTER TABLE notices ADD CONSTRAINT notices_kind_check CHECK (kind IN ('activation_confirmation', 'adverse_action',
    'review_outcome', 'limit_change', 'line_frozen', 'line_unfrozen', 'consent_expiring', 'pre_report_warning',
    'limit_offer', 'terms_change'));
