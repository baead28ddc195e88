-- The serial of the agent's SVID before its last renewal: accepted until the next renewal, so an
-- agent that crashed before storing its renewed SVID can still authenticate.
ALTER TABLE agents ADD COLUMN previous_serial TEXT NOT NULL DEFAULT '';
