-- Which gateway process wrote a request: when that process dies, its unfinished requests
-- can be marked interrupted at once by the next process, without waiting out the deadline.
ALTER TABLE requests ADD COLUMN instance_id TEXT;
CREATE INDEX requests_instance_state ON requests (instance_id, state);
