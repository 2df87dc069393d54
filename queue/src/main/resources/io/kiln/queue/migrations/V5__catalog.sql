-- The function catalog shared by the nodes of a cluster (see io.kiln.queue.catalog.FunctionCatalog):
-- functions, their versions and their jars, stored once by content. Each node keeps its own
-- files as a replica and makes them match these rows.

-- One row holding the catalog's change counter. Every write takes the next number under the
-- row's lock, so numbers are handed out in commit order and a reader that has seen N has seen
-- every change up to N.
CREATE TABLE kiln_catalog_seq (
  id INTEGER PRIMARY KEY,
  seq BIGINT NOT NULL
);
INSERT INTO kiln_catalog_seq (id, seq) VALUES (1, 0);

-- A deleted function keeps its row (deleted = 1, current_version 0), so that "what changed
-- since N" reports the delete; a new deploy of the name revives the row.
CREATE TABLE kiln_functions (
  name TEXT PRIMARY KEY,
  current_version BIGINT NOT NULL,
  deleted INTEGER NOT NULL,
  changed_seq BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX kiln_functions_changed ON kiln_functions (changed_seq);

CREATE TABLE kiln_versions (
  name TEXT NOT NULL,
  version BIGINT NOT NULL,
  jar_sha256 TEXT NOT NULL,
  jar_size BIGINT NOT NULL,
  -- the version as the invoker writes it (its version file's JSON): the queue module does not read it
  config TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE INDEX kiln_versions_jar ON kiln_versions (jar_sha256);

-- A jar, once, in 1 MiB chunks: a 256 MiB jar streams in and out without being held whole.
CREATE TABLE kiln_blobs (
  sha256 TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE kiln_blob_chunks (
  sha256 TEXT NOT NULL,
  idx INTEGER NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (sha256, idx)
);
