-- Schedules: when to fire and what to enqueue. The fire times are computed by ScheduleSpec from
-- (kind, value, zone) and spec_at; last_scheduled is the last fire time handled (Misfires'
-- advanceTo) and next_fire_at the one after it, which the firing loop waits for.
CREATE TABLE schedules (
  -- the id users see and the queue items' source (schedule:<name>)
  name TEXT PRIMARY KEY,
  function_name TEXT NOT NULL,
  -- cron | rate | at, with the value and zone exactly as given
  kind TEXT NOT NULL,
  spec TEXT NOT NULL,
  zone TEXT,
  -- when this spec was set: a rate's anchor, and what a one-time "at" was checked against
  spec_at BIGINT NOT NULL,
  -- skip | allow
  overlap TEXT NOT NULL,
  -- fire_once | skip
  misfire TEXT NOT NULL,
  input BYTEA NOT NULL,
  -- plain (input as given) | eventbridge (an EventBridge ScheduledEvent for each fire time)
  shape TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  last_scheduled BIGINT NOT NULL,
  -- NULL: never fires again (a one-time schedule that fired)
  next_fire_at BIGINT
);
CREATE INDEX schedules_due ON schedules (enabled, next_fire_at);

-- One row per fire time handled: enqueued (with its call), skipped (with why) or missed. The
-- primary key is what makes a fire time fire once across nodes and restarts: the row and its
-- queue item are inserted in one transaction with ON CONFLICT DO NOTHING.
CREATE TABLE schedule_firings (
  schedule_name TEXT NOT NULL,
  fire_time BIGINT NOT NULL,
  fired_at BIGINT NOT NULL,
  node TEXT NOT NULL,
  -- enqueued | skipped | missed
  outcome TEXT NOT NULL,
  call_id BIGINT,
  reason TEXT,
  PRIMARY KEY (schedule_name, fire_time)
);
CREATE INDEX schedule_firings_recent ON schedule_firings (schedule_name, fired_at);

-- The overlap check: is a run of this schedule (source schedule:<name>) still queued or running?
CREATE INDEX schedules_queue_source ON queue_items (source, state);
