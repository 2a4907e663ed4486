-- Cache affinity of a conversation's turn: kept on the offering holding its prompt cache,
-- moved (and why), or new.
ALTER TABLE requests ADD COLUMN affinity TEXT;
