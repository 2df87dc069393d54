-- Topics: a subscription binds a function to a topic, with an optional filter on the events'
-- attributes. Each matching event becomes one queue item per subscription (source
-- topic:<subscription id>), so every subscription has its own durable delivery.
CREATE TABLE topic_subscriptions (
  id BIGINT PRIMARY KEY,
  topic TEXT NOT NULL,
  name TEXT NOT NULL,
  function_name TEXT NOT NULL,
  -- JSON object: attribute -> "exact value" or {"prefix": "..."}; {} matches every event
  filters TEXT NOT NULL,
  -- plain (one CloudEvent per call) | sqs (an SQSEvent of up to batch_size records per call)
  shape TEXT NOT NULL,
  batch_size INTEGER NOT NULL,
  -- sqs: how long a batch waits for more events before it runs (0: at once); a full batch runs at once
  batch_window_ms BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
-- PUT semantics: one subscription of a given name per topic.
CREATE UNIQUE INDEX topic_subscriptions_name ON topic_subscriptions (topic, name);
-- A subscription's pending items: the SQS batch an event joins, and what a delete cancels.
CREATE INDEX queue_items_source ON queue_items (source, state);
