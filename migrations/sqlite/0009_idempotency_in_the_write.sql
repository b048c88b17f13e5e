-- The answer to an Idempotency-Key is stored in the business write's own transaction
-- (docs/architecture.md, "The write path"); whether a request is still running is known to the
-- process only. Claims left behind by a crash of an earlier version are forgotten, so a retry
-- runs afresh instead of answering 409 for a day.
DELETE FROM idempotency_keys WHERE state = 'in_progress';
