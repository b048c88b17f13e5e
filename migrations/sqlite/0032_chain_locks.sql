-- SQLite's form of migrations/0032: nothing to change. PostgreSQL gained the functions that take
-- one lock a chain (so that writes to different chains run side by side); SQLite's writer holds
-- the only write lock there is.
SELECT 1;
