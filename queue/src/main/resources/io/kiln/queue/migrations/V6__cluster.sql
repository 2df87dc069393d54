-- Several nodes on one PostgreSQL: who is there, and the settings they share.
-- A node upserts its row at start and renews heartbeat_at every second; a row whose heartbeat
-- is older than the node timeout is declared dead by whichever peer sees it first.
CREATE TABLE kiln_nodes (
  node TEXT PRIMARY KEY,
  -- how peers reach it (forwarded calls, merged logs)
  url TEXT NOT NULL,
  engine TEXT NOT NULL,
  -- up | draining (stopping: takes no new work) | stopped (left cleanly) | dead (declared by a peer)
  state TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  -- JSON object: the node's load at its last heartbeat
  load TEXT NOT NULL
);
-- Shared settings, each written once by the first node that needs it (INSERT ... ON CONFLICT DO NOTHING):
-- internal_secret (the credential of calls between nodes), management_token (the one API token).
CREATE TABLE kiln_cluster (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
