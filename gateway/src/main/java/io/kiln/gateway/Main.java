package io.kiln.gateway;

import io.kiln.gateway.cluster.ClusterConfig;
import io.kiln.gateway.events.QueueConfig;
import io.kiln.invoker.InvokerConfig;
import io.kiln.invoker.JailChoice;
import io.kiln.invoker.engine.EngineSelector;
import io.kiln.invoker.logs.LogRetention;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Starts the gateway: {@code java -cp gateway/target/classes:$(cat gateway/target/classpath.txt)
 * io.kiln.gateway.Main [flags]}. Every flag has an environment variable; a flag wins.
 * Prints where it listens, the engine and why, and (the first time only) the management token.
 * SIGTERM and SIGINT shut it down gracefully.
 */
public final class Main {

    /** flag → environment variable. */
    static final Map<String, String> FLAGS = new LinkedHashMap<>();

    static {
        FLAGS.put("--host", "KILN_HOST");
        FLAGS.put("--port", "KILN_PORT");
        FLAGS.put("--data-dir", "KILN_DATA");
        FLAGS.put("--engine", "KILN_ENGINE");
        FLAGS.put("--memory-budget-mib", "KILN_MEMORY_BUDGET_MIB");
        FLAGS.put("--jail", "KILN_JAIL");
        FLAGS.put("--restore-timeout-s", "KILN_RESTORE_TIMEOUT_S");
        FLAGS.put("--log-retention-mib", "KILN_LOG_RETENTION_MIB");
        FLAGS.put("--log-retention-days", "KILN_LOG_RETENTION_DAYS");
        FLAGS.put("--max-body-mib", "KILN_MAX_BODY_MIB");
        FLAGS.put("--rate-limit", "KILN_RATE_LIMIT");
        FLAGS.put("--rate-burst", "KILN_RATE_BURST");
        FLAGS.put("--queue-url", "KILN_QUEUE_URL");
        FLAGS.put("--node", "KILN_NODE");
        FLAGS.put("--queue-concurrency", "KILN_QUEUE_CONCURRENCY");
        FLAGS.put("--jobs-input-dir", "KILN_JOBS_INPUT_DIR");
        FLAGS.put("--advertise-url", "KILN_ADVERTISE_URL");
        FLAGS.put("--node-timeout-s", "KILN_NODE_TIMEOUT_S");
    }

    private Main() {
    }

    public static void main(String[] args) {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT %4$s %3$s: %5$s%6$s%n");
        }
        GatewayConfig config;
        try {
            config = parse(args, System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("kiln gateway: " + e.getMessage());
            usage(System.err);
            System.exit(64);
            return;
        }
        if (config == null) {
            usage(System.out);
            return;
        }
        Gateway gateway;
        try {
            gateway = Gateway.start(config);
        } catch (IOException | RuntimeException e) {
            System.err.println("kiln gateway: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runnable stop = () -> {
            System.out.println("Kiln gateway: shutting down (draining calls for up to "
                    + config.drain().toSeconds() + " s)");
            gateway.shutdown(config.drain());
            System.out.println("Kiln gateway: stopped");
        };
        // SIGTERM/SIGINT drain first and exit after; the hook covers any other way out (it does
        // nothing if the drain already ran, and cannot drain VMs the QEMU engine's hook kills).
        boolean signals = Signals.onTerminate(() -> {
            stop.run();
            System.exit(0);
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (!gateway.stopped()) {
                stop.run();
            }
        }, "kiln-shutdown"));
        if (!signals) {
            System.err.println("kiln gateway: cannot handle SIGTERM itself; a shutdown may cut calls in flight");
        }
        var engine = gateway.invoker().engine();
        System.out.println("Kiln gateway listening on " + gateway.url());
        System.out.println("Engine: " + engine.engine().name() + " — " + engine.reason());
        System.out.println("Data: " + config.dataDir());
        System.out.println("Queue: " + gateway.queue().describe() + ", node " + config.queue().node());
        if (gateway.token().created()) {
            System.out.println("Management token (saved in " + gateway.token().path() + "): "
                    + gateway.token().token());
        } else {
            System.out.println("Management token: in " + gateway.token().path());
        }
        System.out.flush();
    }

    /** The configuration from flags and environment, or null if help was asked for. */
    static GatewayConfig parse(String[] args, Map<String, String> env) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Map.Entry<String, String> f : FLAGS.entrySet()) {
            String v = env.get(f.getValue());
            if (v != null && !v.isBlank()) {
                values.put(f.getKey(), v);
            }
        }
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                return null;
            }
            String flag = a;
            String value;
            int eq = a.indexOf('=');
            if (eq > 0) {
                flag = a.substring(0, eq);
                value = a.substring(eq + 1);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException(a + " needs a value");
            }
            if (!FLAGS.containsKey(flag)) {
                throw new IllegalArgumentException("unknown option " + flag);
            }
            values.put(flag, value);
        }
        Path data = values.containsKey("--data-dir") ? Path.of(values.get("--data-dir"))
                : Path.of(System.getProperty("user.home"), ".local", "share", "kiln");
        GatewayConfig c = GatewayConfig.defaults(data.toAbsolutePath());
        InvokerConfig inv = c.invoker();
        if (values.containsKey("--engine")) {
            inv = inv.withEngine(values.get("--engine"));
        }
        if (values.containsKey("--jail")) {
            String mode = values.get("--jail").strip();
            if (!JailChoice.MODES.contains(mode)) {
                throw new IllegalArgumentException("--jail must be one of auto, on, off; got \"" + mode + "\"");
            }
            inv = inv.withJail(mode);
        }
        if (values.containsKey("--memory-budget-mib")) {
            inv = inv.withMemoryBudgetMib(number("--memory-budget-mib", values.get("--memory-budget-mib")));
        }
        if (values.containsKey("--restore-timeout-s")) {
            long s = number("--restore-timeout-s", values.get("--restore-timeout-s"));
            if (s < 1) {
                throw new IllegalArgumentException("--restore-timeout-s must be at least 1, got " + s);
            }
            inv = inv.withStartTimeouts(inv.bootTimeout(), Duration.ofSeconds(s));
        }
        if (values.containsKey("--log-retention-mib") || values.containsKey("--log-retention-days")) {
            long mib = values.containsKey("--log-retention-mib")
                    ? number("--log-retention-mib", values.get("--log-retention-mib")) : LogRetention.DEFAULT_MIB;
            long days = values.containsKey("--log-retention-days")
                    ? number("--log-retention-days", values.get("--log-retention-days")) : LogRetention.DEFAULT_DAYS;
            if (mib < 1 || mib > LogRetention.MAX_MIB) {
                throw new IllegalArgumentException("--log-retention-mib must be from 1 to " + LogRetention.MAX_MIB
                        + ", got " + mib);
            }
            if (days < 1 || days > LogRetention.MAX_DAYS) {
                throw new IllegalArgumentException("--log-retention-days must be from 1 to " + LogRetention.MAX_DAYS
                        + ", got " + days);
            }
            inv = inv.withLogRetention(LogRetention.of(mib, days));
        }
        c = c.withInvoker(inv).withListen(values.getOrDefault("--host", c.host()),
                (int) number("--port", values.getOrDefault("--port", Integer.toString(c.port()))));
        if (values.containsKey("--max-body-mib")) {
            c = c.withMaxBodyBytes(number("--max-body-mib", values.get("--max-body-mib")) * GatewayConfig.MIB);
        }
        if (values.containsKey("--rate-limit") || values.containsKey("--rate-burst")) {
            double rate = values.containsKey("--rate-limit") ? decimal("--rate-limit", values.get("--rate-limit")) : 0;
            int burst = values.containsKey("--rate-burst") ? (int) number("--rate-burst", values.get("--rate-burst"))
                    : Math.max(1, (int) Math.ceil(rate));
            c = c.withRateLimit(rate, burst);
        }
        QueueConfig q = c.queue();
        if (values.containsKey("--queue-url")) {
            q = q.withUrl(values.get("--queue-url"));
        }
        if (values.containsKey("--node")) {
            q = q.withNode(values.get("--node"));
        }
        if (values.containsKey("--queue-concurrency")) {
            q = q.withConcurrency((int) number("--queue-concurrency", values.get("--queue-concurrency")));
        }
        c = c.withQueue(q);
        if (values.containsKey("--jobs-input-dir")) {
            c = c.withJobsInputDir(Path.of(values.get("--jobs-input-dir")).toAbsolutePath());
        }
        ClusterConfig cluster = c.cluster();
        if (values.containsKey("--advertise-url")) {
            cluster = cluster.withAdvertiseUrl(values.get("--advertise-url"));
        }
        if (values.containsKey("--node-timeout-s")) {
            cluster = cluster.withNodeTimeout(Duration.ofSeconds(number("--node-timeout-s",
                    values.get("--node-timeout-s"))));
        }
        return c.withCluster(cluster);
    }

    private static long number(String flag, String v) {
        try {
            return Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be a whole number, got \"" + v + "\"");
        }
    }

    private static double decimal(String flag, String v) {
        try {
            return Double.parseDouble(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be a number, got \"" + v + "\"");
        }
    }

    static void usage(PrintStream out) {
        out.println("""
                usage: io.kiln.gateway.Main [options]   (each option also from its environment variable)
                  --host H               listen address (KILN_HOST, default 127.0.0.1)
                  --port N               listen port (KILN_PORT, default 8080; 0 for any free port)
                  --data-dir D           functions, snapshots and the token (KILN_DATA, default ~/.local/share/kiln)
                  --engine E             %s (KILN_ENGINE, default auto)
                  --jail M               auto, on or off: run each VMM in its function's jail, own uid, namespaces and
                                         cgroup (KILN_JAIL, default auto = on when root, kiln-jailer and cgroups work)
                  --memory-budget-mib N  memory of all instances together (KILN_MEMORY_BUDGET_MIB, default 4096)
                  --restore-timeout-s N  a clone's restore to its agent's RESTORED, hooks included (KILN_RESTORE_TIMEOUT_S, default 10)
                  --log-retention-mib N  each function's log on disk, oldest segments deleted above it (KILN_LOG_RETENTION_MIB, default 64)
                  --log-retention-days N each function's log lines older than this are deleted (KILN_LOG_RETENTION_DAYS, default 7)
                  --max-body-mib N       largest call body (KILN_MAX_BODY_MIB, default 6)
                  --rate-limit R         calls per second per function, 0 for none (KILN_RATE_LIMIT, default 0)
                  --rate-burst N         calls at once above the rate (KILN_RATE_BURST, default the rate rounded up)
                  --queue-url U          the durable queue's store: jdbc:sqlite:FILE or jdbc:postgresql://HOST/DB?user=..
                                         (KILN_QUEUE_URL, default jdbc:sqlite:<data-dir>/queue.db)
                  --node NAME            this node's name, unique in a cluster (KILN_NODE, default local)
                  --advertise-url U      how the other nodes reach this one, http://HOST:PORT (KILN_ADVERTISE_URL,
                                         default the listen address; needed when listening on 0.0.0.0)
                  --node-timeout-s N     a node silent this long is declared dead and its work given to the others
                                         (KILN_NODE_TIMEOUT_S, default 10)
                  --queue-concurrency N  queue items (async calls, events, callbacks) run at once (KILN_QUEUE_CONCURRENCY, default 64)
                  --jobs-input-dir D     batch jobs may read input files under D (KILN_JOBS_INPUT_DIR; default none:
                                         jobs take uploads only)"""
                .formatted(EngineSelector.CHOICES));
    }
}
