-- What a database is, said once by the command that made it so (README "Try it"): `serve --demo`
-- marks the database it accepts as a demo database, which holds public keys and must never serve
-- real customers; a normal start refuses it unless told otherwise.
CREATE TABLE database_marks (
    name   TEXT PRIMARY KEY CHECK (name IN ('demo')),
    set_at TEXT NOT NULL
);
