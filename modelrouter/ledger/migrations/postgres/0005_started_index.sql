-- Only unfinished requests need finding (after their process died, or past the deadline),
-- and almost every row is written already finished: partial indexes cost those rows nothing.
DROP INDEX requests_instance_state;
CREATE INDEX requests_started_instance ON requests (instance_id) WHERE state = 'started';
CREATE INDEX requests_started_created ON requests (created_at) WHERE state = 'started';
