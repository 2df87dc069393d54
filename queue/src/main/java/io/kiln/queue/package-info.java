/**
 * The durable queue: async calls, schedule firings, topic deliveries and batch records are all
 * queue items in one schema, stored in embedded SQLite or in PostgreSQL over one JDBC code path.
 */
package io.kiln.queue;
