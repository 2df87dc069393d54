package io.kiln.queue.cluster;

import java.time.Instant;

/** One node's row in {@code kiln_nodes}: what its peers know of it. {@code load} is a JSON object. */
public record NodeRow(String node, String url, String engine, String state, Instant startedAt, Instant heartbeatAt,
                      String load) {

    public static final String UP = "up";
    public static final String DRAINING = "draining";
    public static final String STOPPED = "stopped";
    public static final String DEAD = "dead";

    public NodeRow withState(String s) {
        return new NodeRow(node, url, engine, s, startedAt, heartbeatAt, load);
    }
}
