-- The queue: one row per unit of work that is not a synchronous HTTP call. Times are epoch
-- milliseconds (BIGINT) on both stores; ids are chosen by Kiln (random 64-bit, like call ids),
-- so no identity column differs between SQLite and PostgreSQL.
CREATE TABLE queue_items (
  id BIGINT PRIMARY KEY,
  -- call: invoke function_name with input; callback: POST the ended call's record to callback_url
  kind TEXT NOT NULL,
  function_name TEXT NOT NULL,
  -- available | running | succeeded | dead | cancelled
  state TEXT NOT NULL,
  input BYTEA NOT NULL,
  -- the async request's HTTP head as JSON (method, path, query, headers), or NULL
  http_head TEXT,
  callback_url TEXT,
  idempotency_key TEXT,
  -- who enqueued it: api, schedule:<id>, topic:<subscription>, job:<id>, destination:<item>
  source TEXT NOT NULL,
  -- retries allowed after the first attempt; backoff before retry n is base * 2^(n-1), jittered, capped
  max_retries INTEGER NOT NULL,
  backoff_base_ms BIGINT NOT NULL,
  backoff_max_ms BIGINT NOT NULL,
  -- dead-lettered instead of (re)tried once this old (0: no limit)
  max_age_ms BIGINT NOT NULL,
  -- attempts since it was (re)driven, and ever
  attempt INTEGER NOT NULL,
  attempts_total INTEGER NOT NULL,
  run_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  lease_node TEXT,
  lease_owner TEXT,
  lease_until BIGINT,
  -- succeeded: the function's reply as JSON
  result BYTEA,
  -- the last failed attempt's error; for a dead item, why it is dead
  error_code TEXT,
  error_message TEXT,
  -- function_error: the function's exception type
  error_type TEXT
);
CREATE INDEX queue_items_ready ON queue_items (state, run_at);
CREATE INDEX queue_items_ready_by_function ON queue_items (state, function_name, run_at);
CREATE INDEX queue_items_function ON queue_items (function_name, state);
CREATE INDEX queue_items_lease ON queue_items (state, lease_until);
CREATE INDEX queue_items_finished ON queue_items (state, finished_at);
-- A repeated submit with the same key is the first call, for as long as the item is kept.
CREATE UNIQUE INDEX queue_items_idempotency ON queue_items (function_name, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

-- Every attempt, kept with its item: the dead-letter record shows each one's error and times.
CREATE TABLE queue_attempts (
  item_id BIGINT NOT NULL,
  seq INTEGER NOT NULL,
  node TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  ended_at BIGINT,
  -- succeeded | failed | released (not run: no capacity) | interrupted (its node died)
  outcome TEXT,
  error_code TEXT,
  error_message TEXT,
  error_type TEXT,
  PRIMARY KEY (item_id, seq)
);
