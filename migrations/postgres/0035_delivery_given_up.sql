-- What to watch (README "Operations", "What to watch"): deliveries given up after
-- webhook_retry_hours, found by when their last attempt was, for the gauge
-- creditline_webhook_deliveries_given_up. Only the failed ones are indexed.
CREATE INDEX webhook_deliveries_given_up ON webhook_deliveries (last_attempt_at) WHERE status = 'failed';
