-- An alert's announcement, kept with the change it announces until it is published: the
-- transition that flips `firing` writes it in the same statement, publishing clears it,
-- and every evaluation round first publishes what a node that died in between left here
-- (under an idempotency key made of the rule, subject and change time, so two nodes
-- publishing the same one make one event). NULL: nothing waiting.
ALTER TABLE alert_states ADD COLUMN announcement TEXT;
