-- A charge-off's first approval belongs to the arrears it was given for (README "The line in
-- use"): the due date of the oldest unpaid instalment then. It lapses when that episode ends (the
-- arrears were paid, and any later ones are a new episode) or 30 days after it was given.
-- Approvals recorded before this have no episode and count as lapsed.
ALTER TABLE charge_off_approvals ADD COLUMN episode_due_on TEXT;
