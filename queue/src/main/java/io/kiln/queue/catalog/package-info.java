/**
 * The function catalog a cluster's nodes share in PostgreSQL: functions, their numbered versions
 * and their jars (stored once by content, in chunks), with a change counter and a NOTIFY so each
 * node can make its own replica match. The same SQL runs on SQLite for the tests; a single node
 * does not use it.
 */
package io.kiln.queue.catalog;
