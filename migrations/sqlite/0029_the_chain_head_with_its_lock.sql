-- SQLite's form of migrations/0029: nothing to change. PostgreSQL gained a function that takes
-- the chain's lock and reads its head in one round trip; SQLite's writer holds the only write
-- lock there is, and reads the head from its own file.
SELECT 1;
