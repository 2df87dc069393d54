package io.kiln.gateway.cluster;

import io.kiln.queue.QueueStore;
import io.kiln.queue.cluster.NodeRow;
import io.kiln.queue.cluster.NodeTable;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * This node's view of the cluster, and its own row in it. One thread ({@code kiln-membership})
 * owns both: every heartbeat it renews this node's row with its load, reads every row, declares
 * peers that have been silent longer than the timeout dead (which queues their running work
 * again, in the same transaction), and publishes an immutable {@link View}. Readers (routing,
 * health) take the latest view without locks; it is at most one heartbeat old.
 *
 * <p>Times are the nodes' own clocks: their skew must stay well under the timeout (10 s by
 * default), which NTP gives.
 */
public final class Membership implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Membership.class.getName());

    /**
     * Every known node (live or not) as the table last showed it, in name order (one this node
     * has just declared dead says so), and the names of the live ones: up, and heard from
     * within the timeout.
     */
    public record View(String self, List<NodeRow> nodes, List<String> live) {

        public NodeRow node(String name) {
            for (NodeRow n : nodes) {
                if (n.node().equals(name)) {
                    return n;
                }
            }
            return null;
        }
    }

    private final NodeTable table;
    private final QueueStore queue;
    private final ClusterConfig config;
    private final String self;
    private final String url;
    private final String engine;
    private final Supplier<String> load;
    private final Clock clock;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "kiln-membership");
        t.setDaemon(true);
        return t;
    });
    private volatile View view;
    /** Written only on the membership thread (and before it starts). */
    private boolean draining;
    /** When heartbeats began to fail ({@link System#nanoTime}), 0 while they work; the thread's own. */
    private long failingSince;
    private long lastWarned;

    private Membership(NodeTable table, QueueStore queue, ClusterConfig config, String self, String url, String engine,
                       Supplier<String> load, Clock clock) {
        this.table = table;
        this.queue = queue;
        this.config = config;
        this.self = self;
        this.url = url;
        this.engine = engine;
        this.load = load;
        this.clock = clock;
    }

    /**
     * Registers this node (up), reads the cluster once, then keeps both fresh. Returns when the
     * first view is published, so the node routes with it from its first request.
     */
    public static Membership start(NodeTable table, QueueStore queue, ClusterConfig config, String self, String url,
                                   String engine, Supplier<String> load, Clock clock) throws SQLException {
        Membership m = new Membership(table, queue, config, self, url, engine, load, clock);
        table.register(self, url, engine, load.get());
        m.refresh();
        long beat = config.heartbeat().toMillis();
        m.thread.scheduleWithFixedDelay(m::beat, beat, beat, TimeUnit.MILLISECONDS);
        LOG.log(System.Logger.Level.INFO, "cluster: node " + self + " at " + url + " joined; live nodes "
                + m.view.live());
        return m;
    }

    public View view() {
        return view;
    }

    public String self() {
        return self;
    }

    public ClusterConfig config() {
        return config;
    }

    private void beat() {
        try {
            if (!table.heartbeat(self, load.get())) {
                // A peer declared this node dead (it was cut off from the store longer than the
                // timeout) and gave its running work to others: say so, and come back.
                LOG.log(System.Logger.Level.WARNING, "cluster: node " + self + " was declared dead by a peer; rejoining");
                table.register(self, url, engine, load.get());
                if (draining) {
                    table.state(self, NodeRow.DRAINING);
                }
            }
            refresh();
            if (failingSince != 0) {
                LOG.log(System.Logger.Level.INFO, "cluster: heartbeats work again after "
                        + (System.nanoTime() - failingSince) / 1_000_000 + " ms");
                failingSince = 0;
            }
        } catch (SQLException | RuntimeException e) {
            // Said at the first failure and every 30 s while it lasts, not every second.
            long now = System.nanoTime();
            if (failingSince == 0 || now - lastWarned > 30_000_000_000L) {
                LOG.log(System.Logger.Level.WARNING, "cluster: heartbeat failed (" + e.getMessage()
                        + "); routing keeps the last view" + (failingSince == 0 ? ""
                        : "; failing for " + (now - failingSince) / 1_000_000_000 + " s"));
                lastWarned = now;
            }
            if (failingSince == 0) {
                failingSince = now;
            }
        }
    }

    /** Reads every row, declares the silent dead, publishes the view. */
    private void refresh() throws SQLException {
        Instant now = clock.instant();
        List<NodeRow> nodes = new ArrayList<>();
        List<String> live = new ArrayList<>();
        for (NodeRow r : table.list()) {
            boolean silent = Duration.between(r.heartbeatAt(), now).compareTo(config.nodeTimeout()) > 0;
            if (silent && !r.node().equals(self) && (r.state().equals(NodeRow.UP)
                    || r.state().equals(NodeRow.DRAINING))) {
                int rescued = table.declareDead(r.node(), config.nodeTimeout(), queue);
                if (rescued >= 0) {
                    LOG.log(System.Logger.Level.WARNING, "cluster: node " + r.node() + " has not heartbeaten for "
                            + Duration.between(r.heartbeatAt(), now).toMillis() + " ms; declared dead, " + rescued
                            + " of its running queue item(s) queued again");
                    r = r.withState(NodeRow.DEAD);
                }
            }
            nodes.add(r);
            if (r.state().equals(NodeRow.UP) && (!silent || r.node().equals(self))) {
                live.add(r.node());
            }
        }
        view = new View(self, List.copyOf(nodes), List.copyOf(live));
    }

    /**
     * This node stops taking new work: peers stop routing calls to it within one heartbeat.
     * Waits for that to be written.
     */
    public void drain() {
        run(() -> {
            draining = true;
            table.state(self, NodeRow.DRAINING);
            refresh();
        }, "marking the node draining");
    }

    /**
     * The node's last act: whatever it still holds running (its drain ran out) goes back to the
     * queue now, for its peers, and its row says it stopped. Then the heartbeats end.
     */
    @Override
    public void close() {
        run(() -> {
            int rescued = table.releaseOwn(self, queue);
            table.state(self, NodeRow.STOPPED);
            if (rescued > 0) {
                LOG.log(System.Logger.Level.INFO, "cluster: " + rescued + " queue item(s) still running at the stop"
                        + " were queued again for the other nodes");
            }
        }, "leaving the cluster");
        thread.shutdownNow();
    }

    private interface Step {
        void run() throws SQLException;
    }

    private void run(Step step, String what) {
        try {
            thread.submit(() -> {
                step.run();
                return null;
            }).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "cluster: " + what + " failed: " + e);
        }
    }
}
