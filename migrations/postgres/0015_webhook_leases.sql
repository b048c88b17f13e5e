-- A webhook delivery is claimed in the database before it is pushed (README "Events and
-- notices"): the claiming instance's id and when its claim lapses. Two instances on one database
-- never push one delivery at once, and a crashed instance's claim runs out so that another takes
-- the delivery.
ALTER TABLE webhook_deliveries ADD COLUMN lease_owner TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN lease_expires_at TEXT;
