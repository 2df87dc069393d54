package io.kiln.gateway.cluster;

import java.net.URI;
import java.time.Duration;

/**
 * How a node takes part in a cluster (only when its store is PostgreSQL).
 *
 * @param advertiseUrl how peers reach this node, {@code http://host:port}; null: the address it
 *                     listens on (which must then not be a wildcard)
 * @param heartbeat    how often the node renews its row and reads its peers'
 * @param nodeTimeout  a node silent this long is declared dead: its running queue work is
 *                     queued again and its share of the routing moves to the others
 */
public record ClusterConfig(String advertiseUrl, Duration heartbeat, Duration nodeTimeout) {

    public ClusterConfig {
        if (advertiseUrl != null) {
            URI u;
            try {
                u = URI.create(advertiseUrl);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the advertised URL is not a URL: \"" + advertiseUrl + "\"");
            }
            if (!"http".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 1
                    || (u.getPath() != null && !u.getPath().isEmpty() && !u.getPath().equals("/"))) {
                throw new IllegalArgumentException("the advertised URL must be http://HOST:PORT, got \""
                        + advertiseUrl + "\"");
            }
        }
        if (heartbeat.toMillis() < 50) {
            throw new IllegalArgumentException("the heartbeat must be at least 50 ms, got " + heartbeat.toMillis() + " ms");
        }
        if (nodeTimeout.compareTo(heartbeat.multipliedBy(3)) < 0) {
            throw new IllegalArgumentException("the node timeout must be at least three heartbeats ("
                    + heartbeat.multipliedBy(3).toMillis() + " ms), got " + nodeTimeout.toMillis() + " ms");
        }
    }

    /** The advertised URL from the listening address; heartbeats every second; dead after 10 s. */
    public static ClusterConfig defaults() {
        return new ClusterConfig(null, Duration.ofSeconds(1), Duration.ofSeconds(10));
    }

    public ClusterConfig withAdvertiseUrl(String url) {
        return new ClusterConfig(url, heartbeat, nodeTimeout);
    }

    public ClusterConfig withNodeTimeout(Duration timeout) {
        return new ClusterConfig(advertiseUrl, heartbeat, timeout);
    }

    /** This node's URL for peers, given where it listens. */
    public String urlFor(String host, int port) {
        if (advertiseUrl != null) {
            return advertiseUrl.endsWith("/") ? advertiseUrl.substring(0, advertiseUrl.length() - 1) : advertiseUrl;
        }
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
            throw new IllegalArgumentException("listening on " + host + ", the node cannot tell peers its address: "
                    + "give --advertise-url http://HOST:PORT");
        }
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
