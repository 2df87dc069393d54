-- Batch jobs: a data set's records, in groups of records_per_call, each group one queue item
-- while it runs. The job row holds the counters a progress report reads, kept exact by the
-- transactions that end each group (see io.kiln.queue.job.JobStore).
CREATE TABLE jobs (
  id BIGINT PRIMARY KEY,
  function_name TEXT NOT NULL,
  -- running | succeeded | failed (stopped: failure tolerance exceeded) | cancelled
  state TEXT NOT NULL,
  records_per_call INTEGER NOT NULL,
  max_concurrency INTEGER NOT NULL,
  -- count: more than tolerate_value failed records stops the job; percent: more than
  -- tolerate_value hundredths of a percent of all records
  tolerate_kind TEXT NOT NULL,
  tolerate_value BIGINT NOT NULL,
  -- the retry policy copied into each group's queue item
  max_retries INTEGER NOT NULL,
  backoff_base_ms BIGINT NOT NULL,
  backoff_max_ms BIGINT NOT NULL,
  max_age_ms BIGINT NOT NULL,
  total_records BIGINT NOT NULL,
  groups_total BIGINT NOT NULL,
  records_done BIGINT NOT NULL,
  records_failed BIGINT NOT NULL,
  -- groups enqueued as queue items and not yet ended, and their records
  groups_queued BIGINT NOT NULL,
  records_queued BIGINT NOT NULL,
  records_cancelled BIGINT NOT NULL,
  -- records that may have run more than once: their call was interrupted (its node died, its
  -- lease ran out) and run again; once per interrupted attempt
  duplicates BIGINT NOT NULL,
  stop_reason TEXT,
  created_at BIGINT NOT NULL,
  finished_at BIGINT
);
CREATE INDEX jobs_created ON jobs (created_at);

CREATE TABLE job_groups (
  job_id BIGINT NOT NULL,
  idx BIGINT NOT NULL,
  first_record BIGINT NOT NULL,
  records INTEGER NOT NULL,
  -- what the function receives: the record (JSON), or a JSON array of records
  input BYTEA NOT NULL,
  -- pending | queued | succeeded | failed | cancelled
  state TEXT NOT NULL,
  -- the queue item running it (state queued), or that last ran it
  item_id BIGINT,
  -- how many times it was fed to the queue (a redrive feeds it again)
  generation INTEGER NOT NULL,
  -- succeeded: the function's reply as the queue stores it
  output BYTEA,
  error_code TEXT,
  error_message TEXT,
  error_type TEXT,
  attempts INTEGER NOT NULL,
  ended_at BIGINT,
  PRIMARY KEY (job_id, idx)
);
CREATE INDEX job_groups_state ON job_groups (job_id, state, idx);
CREATE INDEX job_groups_item ON job_groups (item_id);
-- The reconciler's look for queued groups across all jobs.
CREATE INDEX job_groups_by_state ON job_groups (state);
CREATE INDEX job_groups_ended ON job_groups (job_id, ended_at);
