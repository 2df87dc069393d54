package io.kiln.gateway.cluster;

import io.kiln.gateway.http.ApiError;
import io.vertx.core.http.HttpServerRequest;

import io.kiln.queue.QueueStore;
import io.kiln.queue.cluster.NodeRow;
import io.kiln.queue.cluster.NodeTable;

import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.function.Supplier;

/**
 * A node's part in a cluster: its membership, the internal credential, and where a function's
 * synchronous calls go. Null in the gateway when the store is SQLite (one node).
 */
public final class Cluster implements AutoCloseable {

    /** {@code kiln_cluster} names of the shared settings. */
    public static final String INTERNAL_SECRET = "internal_secret";
    public static final String MANAGEMENT_TOKEN = "management_token";

    private final NodeTable nodes;
    private final QueueStore queue;
    private final ClusterConfig config;
    private final String self;
    private final Forwarder forwarder;
    /** Set once, when the node listens and so knows its URL; until then calls run here. */
    private volatile Membership membership;
    /** Nodes a forward could not reach, until when ({@link System#nanoTime}). */
    private final java.util.concurrent.ConcurrentHashMap<String, Long> unreachable =
            new java.util.concurrent.ConcurrentHashMap<>();

    public Cluster(NodeTable nodes, QueueStore queue, ClusterConfig config, String self, Forwarder forwarder) {
        this.nodes = nodes;
        this.queue = queue;
        this.config = config;
        this.self = self;
        this.forwarder = forwarder;
    }

    /** Joins: registers this node at {@code url} and starts its heartbeats. */
    public void join(String url, String engine, Supplier<String> load) throws SQLException {
        membership = Membership.start(nodes, queue, config, self, url, engine, load, Clock.systemUTC());
    }

    /** Null until {@link #join}. */
    public Membership membership() {
        return membership;
    }

    public Forwarder forwarder() {
        return forwarder;
    }

    public String self() {
        return self;
    }

    /** The live nodes in {@code function}'s order of preference: its home first. */
    public List<String> rank(String function) {
        Membership m = membership;
        if (m == null) {
            return List.of();
        }
        List<String> ranked = Rendezvous.rank(function, m.view().live());
        if (unreachable.isEmpty()) {
            return ranked;
        }
        // A node this one could not reach goes last until it has been reachable again or the
        // membership has caught up (declared it dead), so calls do not wait on its connects.
        long now = System.nanoTime();
        unreachable.values().removeIf(until -> until - now < 0);
        List<String> first = new java.util.ArrayList<>(ranked.size());
        List<String> last = new java.util.ArrayList<>();
        for (String n : ranked) {
            (unreachable.containsKey(n) ? last : first).add(n);
        }
        first.addAll(last);
        return first;
    }

    /** {@code node} could not be reached: rank it last for the next few seconds. */
    public void unreachable(String node) {
        unreachable.put(node, System.nanoTime() + UNREACHABLE_FOR.toNanos());
    }

    /** How long a node that could not be reached is ranked last: about two heartbeats. */
    static final java.time.Duration UNREACHABLE_FOR = java.time.Duration.ofSeconds(2);

    /** A node's URL, or null if it is not known. */
    public String url(String node) {
        Membership m = membership;
        NodeRow n = m == null ? null : m.view().node(node);
        return n == null ? null : n.url();
    }

    /** Peers stop sending calls here (see {@link Membership#drain}). */
    public void drain() {
        Membership m = membership;
        if (m != null) {
            m.drain();
        }
    }

    /**
     * Whether the request was forwarded by a peer. A request that claims to be (it carries the
     * internal header) with the wrong credential is refused: 403.
     */
    public boolean forwarded(HttpServerRequest request) {
        String value = request.getHeader(Forwarder.INTERNAL);
        if (value == null) {
            return false;
        }
        if (!forwarder.authentic(value)) {
            throw new ApiError(403, "forbidden", "the " + Forwarder.INTERNAL + " header is for calls between nodes,"
                    + " and this one's credential is wrong");
        }
        return true;
    }

    @Override
    public void close() {
        Membership m = membership;
        if (m != null) {
            m.close();
        }
        forwarder.close();
    }
}
