-- PostgreSQL's form of migrations/0009.
DELETE FROM idempotency_keys WHERE state = 'in_progress';
