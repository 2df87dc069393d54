package io.kiln.invoker;

import io.kiln.invoker.logs.LogRetention;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How the invoker runs.
 *
 * @param dataDir          functions, jars and snapshots; survives restarts
 * @param engine           {@code auto} or one of {@code EngineSelector.CHOICES}
 * @param memoryBudgetMib  all instances together, busy and idle
 * @param queueLimit       calls that may wait per function before more are refused (429)
 * @param queueTimeout     how long a call may wait for an instance (then 503)
 * @param bootTimeout      runtime boot to READY, for base snapshots (minutes under TCG)
 * @param restoreTimeout   a clone's restore to its agent's RESTORED answer, the function's
 *                         after-restore hooks included (the host allows 5 s more)
 * @param agentJar         the agent jar, for the process engine
 * @param logRetention     how much of each function's log stays on disk ({@code <dataDir>/logs})
 * @param jail             {@code auto}, {@code on} or {@code off}: whether VMMs run in jails ({@link JailChoice})
 */
public record InvokerConfig(Path dataDir, String engine, long memoryBudgetMib, int queueLimit, Duration queueTimeout,
                            Duration bootTimeout, Duration restoreTimeout, Path agentJar, LogRetention logRetention,
                            String jail) {

    public static final String AGENT_JAR_PROPERTY = "kiln.agent.jar";

    public InvokerConfig {
        if (memoryBudgetMib < 64) {
            throw new IllegalArgumentException("memoryBudgetMib must be at least 64, got " + memoryBudgetMib);
        }
        if (logRetention == null) {
            throw new IllegalArgumentException("logRetention is required");
        }
        if (!JailChoice.MODES.contains(jail)) {
            throw new IllegalArgumentException("jail must be one of " + JailChoice.MODES + ", got '" + jail + "'");
        }
        if (queueLimit < 0) {
            throw new IllegalArgumentException("queueLimit must not be negative, got " + queueLimit);
        }
    }

    /**
     * Defaults: auto engine, a 4 GiB budget, 100 waiting calls per function for up to 10 s, 5 min
     * to boot a runtime, 10 s to restore one, 64 MiB and 7 days of log per function, jails where they work.
     */
    public static InvokerConfig defaults(Path dataDir) {
        String jar = System.getProperty(AGENT_JAR_PROPERTY, System.getenv().getOrDefault("KILN_AGENT_JAR", ""));
        return new InvokerConfig(dataDir, "auto", 4096, 100, Duration.ofSeconds(10), Duration.ofMinutes(5),
                Duration.ofSeconds(10), jar.isEmpty() ? null : Path.of(jar), LogRetention.defaults(), "auto");
    }

    public InvokerConfig withEngine(String e) {
        return new InvokerConfig(dataDir, e, memoryBudgetMib, queueLimit, queueTimeout, bootTimeout, restoreTimeout,
                agentJar, logRetention, jail);
    }

    public InvokerConfig withMemoryBudgetMib(long mib) {
        return new InvokerConfig(dataDir, engine, mib, queueLimit, queueTimeout, bootTimeout, restoreTimeout,
                agentJar, logRetention, jail);
    }

    public InvokerConfig withQueue(int limit, Duration timeout) {
        return new InvokerConfig(dataDir, engine, memoryBudgetMib, limit, timeout, bootTimeout, restoreTimeout,
                agentJar, logRetention, jail);
    }

    /** The deadlines of a runtime's boot (to READY) and of a clone's restore (to RESTORED). */
    public InvokerConfig withStartTimeouts(Duration boot, Duration restore) {
        return new InvokerConfig(dataDir, engine, memoryBudgetMib, queueLimit, queueTimeout, boot, restore, agentJar,
                logRetention, jail);
    }

    /** How much of each function's log stays on disk. */
    public InvokerConfig withLogRetention(LogRetention r) {
        return new InvokerConfig(dataDir, engine, memoryBudgetMib, queueLimit, queueTimeout, bootTimeout,
                restoreTimeout, agentJar, r, jail);
    }

    /** Whether VMMs run in jails: {@code auto}, {@code on} or {@code off}. */
    public InvokerConfig withJail(String mode) {
        return new InvokerConfig(dataDir, engine, memoryBudgetMib, queueLimit, queueTimeout, bootTimeout,
                restoreTimeout, agentJar, logRetention, mode);
    }
}
