package io.kiln.gateway;

import io.kiln.gateway.calls.Cidr;
import io.kiln.gateway.cluster.ClusterConfig;
import io.kiln.gateway.connections.ConnectionLimits;
import io.kiln.gateway.events.QueueConfig;
import io.kiln.invoker.InvokerConfig;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How the gateway runs. {@link #defaults} gives the documented defaults; {@link Main} sets the
 * fields from flags and environment variables.
 *
 * @param host                where to listen, {@code 127.0.0.1} by default
 * @param port                0 for any free port (tests)
 * @param invoker             the embedded invoker's configuration (data directory, engine,
 *                            memory budget, queue)
 * @param maxBodyBytes        largest call body (sync and async triggers); more is 413
 * @param maxJarBytes         largest jar a deploy may upload; more is 413
 * @param maxHeaderBytes      all request headers together; more is 431
 * @param rateLimit           calls per second per function, 0 for no limit
 * @param rateBurst           calls a function may take at once above its rate (the bucket size)
 * @param requestTimeoutGrace a call's request times out (504) this long after its function's
 *                            own timeout: time to wait in the queue and to start an instance
 * @param drain               how long a shutdown lets calls in flight finish
 * @param queue               the durable queue under async calls and events
 * @param jobsInputDir        the directory batch jobs may read input files from (relative paths
 *                            only, never out of it); null: jobs take uploads only
 * @param cluster             how the node joins a cluster, when its queue's store is PostgreSQL
 * @param connections         the timeouts of a connection's head, body and idle spells, and the
 *                            connections one client address may hold open
 * @param callbackAllow       internal address ranges callbacks and URL destinations may reach
 *                            anyway; empty by default (every internal address refused)
 */
public record GatewayConfig(String host, int port, InvokerConfig invoker, long maxBodyBytes, long maxJarBytes,
                            int maxHeaderBytes, double rateLimit, int rateBurst, Duration requestTimeoutGrace,
                            Duration drain, QueueConfig queue, Path jobsInputDir, ClusterConfig cluster,
                            ConnectionLimits connections, List<Cidr> callbackAllow) {

    public static final long MIB = 1L << 20;

    public GatewayConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
        }
        if (maxBodyBytes < 0) {
            throw new IllegalArgumentException("maxBodyBytes must not be negative, got " + maxBodyBytes);
        }
        if (maxJarBytes < 1) {
            throw new IllegalArgumentException("maxJarBytes must be positive, got " + maxJarBytes);
        }
        if (maxHeaderBytes < 1024) {
            throw new IllegalArgumentException("maxHeaderBytes must be at least 1024, got " + maxHeaderBytes);
        }
        if (rateLimit < 0 || Double.isNaN(rateLimit) || Double.isInfinite(rateLimit)) {
            throw new IllegalArgumentException("rateLimit must be a number of calls per second, 0 for none, got "
                    + rateLimit);
        }
        if (rateBurst < 1) {
            throw new IllegalArgumentException("rateBurst must be at least 1, got " + rateBurst);
        }
        if (connections == null) {
            throw new IllegalArgumentException("connections must be given (ConnectionLimits.DEFAULTS)");
        }
        callbackAllow = List.copyOf(callbackAllow);
    }

    /**
     * 127.0.0.1:8080, the invoker's defaults, 6 MiB call bodies, 256 MiB jars, 8 KiB of headers,
     * no rate limit, requests time out 5 s after their function's timeout, 30 s to drain, the
     * queue's defaults (SQLite in the data directory), {@link ConnectionLimits#DEFAULTS}, no callback
     * allow-list.
     */
    public static GatewayConfig defaults(Path dataDir) {
        return new GatewayConfig("127.0.0.1", 8080, InvokerConfig.defaults(dataDir), 6 * MIB, 256 * MIB, 8192,
                0, 1, Duration.ofSeconds(5), Duration.ofSeconds(30), QueueConfig.defaults(dataDir), null,
                ClusterConfig.defaults(), ConnectionLimits.DEFAULTS, List.of());
    }

    public Path dataDir() {
        return invoker.dataDir();
    }

    public GatewayConfig withListen(String h, int p) {
        return new GatewayConfig(h, p, invoker, maxBodyBytes, maxJarBytes, maxHeaderBytes, rateLimit, rateBurst,
                requestTimeoutGrace, drain, queue, jobsInputDir, cluster, connections, callbackAllow);
    }

    public GatewayConfig withInvoker(InvokerConfig i) {
        return new GatewayConfig(host, port, i, maxBodyBytes, maxJarBytes, maxHeaderBytes, rateLimit, rateBurst,
                requestTimeoutGrace, drain, queue, jobsInputDir, cluster, connections, callbackAllow);
    }

    public GatewayConfig withMaxBodyBytes(long n) {
        return new GatewayConfig(host, port, invoker, n, maxJarBytes, maxHeaderBytes, rateLimit, rateBurst,
                requestTimeoutGrace, drain, queue, jobsInputDir, cluster, connections, callbackAllow);
    }

    public GatewayConfig withMaxJarBytes(long n) {
        return new GatewayConfig(host, port, invoker, maxBodyBytes, n, maxHeaderBytes, rateLimit, rateBurst,
                requestTimeoutGrace, drain, queue, jobsInputDir, cluster, connections, callbackAllow);
    }

    /** {@code perSecond} calls per second per function (0: no limit), at most {@code burst} at once. */
    public GatewayConfig withRateLimit(double perSecond, int burst) {
        return new GatewayConfig(host, port, invoker, maxBodyBytes, maxJarBytes, maxHeaderBytes, perSecond, burst,
                requestTimeoutGrace, drain, queue, jobsInputDir, cluster, connections, callbackAllow);
    }

    public GatewayConfig withRequestTimeoutGrace(Duration d) {
        return new GatewayConfig(host, port, invoker, maxBodyBytes, maxJarBytes, maxHeaderBytes, rateLimit, rateBurst,
                d, drain, queue, jobsInputDir, cluster, connections, callbackAllow);
    }

    public GatewayConfig withDrain(Duration d) {
        return new GatewayConfig(host, port, invoker, maxBodyBytes, maxJarBytes, maxHeaderBytes, rateLimit, rateBurst,
                requestTimeoutGrace, d, queue, jobsInputDir, cluster, connections, callbackAllow);
    }

    public GatewayConfig withQueue(QueueConfig q) {
        return new GatewayConfig(host, port, invoker, maxBodyBytes, maxJarBytes, maxHeaderBytes, rateLimit, rateBurst,
                requestTimeoutGrace, drain, q, jobsInputDir, cluster, connections, callbackAllow);
    }

    public GatewayConfig withCluster(ClusterConfig c) {
        return new GatewayConfig(host, port, invoker, maxBodyBytes, maxJarBytes, maxHeaderBytes, rateLimit, rateBurst,
                requestTimeoutGrace, drain, queue, jobsInputDir, c, connections, callbackAllow);
    }

    public GatewayConfig withConnections(ConnectionLimits c) {
        return new GatewayConfig(host, port, invoker, maxBodyBytes, maxJarBytes, maxHeaderBytes, rateLimit, rateBurst,
                requestTimeoutGrace, drain, queue, jobsInputDir, cluster, c, callbackAllow);
    }

    /** Whether the node shares its store with others (PostgreSQL), and so is part of a cluster. */
    public boolean clustered() {
        return queue.shared();
    }

    public GatewayConfig withJobsInputDir(Path dir) {
        return new GatewayConfig(host, port, invoker, maxBodyBytes, maxJarBytes, maxHeaderBytes, rateLimit, rateBurst,
                requestTimeoutGrace, drain, queue, dir, cluster, connections, callbackAllow);
    }

    public GatewayConfig withCallbackAllow(List<Cidr> allow) {
        return new GatewayConfig(host, port, invoker, maxBodyBytes, maxJarBytes, maxHeaderBytes, rateLimit, rateBurst,
                requestTimeoutGrace, drain, queue, jobsInputDir, cluster, connections, allow);
    }
}
