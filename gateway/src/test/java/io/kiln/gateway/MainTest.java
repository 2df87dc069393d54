package io.kiln.gateway;

import io.kiln.invoker.logs.LogRetention;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MainTest {

    @Test
    void defaults() {
        GatewayConfig c = Main.parse(new String[0], Map.of());
        assertEquals("127.0.0.1", c.host());
        assertEquals(8080, c.port());
        assertEquals(Path.of(System.getProperty("user.home"), ".local", "share", "kiln"), c.dataDir());
        assertEquals("auto", c.invoker().engine());
        assertEquals("auto", c.invoker().jail());
        assertEquals(Duration.ofSeconds(10), c.invoker().restoreTimeout());
        assertEquals(6 * GatewayConfig.MIB, c.maxBodyBytes());
        assertEquals(0, c.rateLimit());
        assertNull(c.jobsInputDir(), "batch jobs read no server file unless the operator allows a directory");
        assertEquals(new LogRetention(64 * LogRetention.MIB, Duration.ofDays(7), 8 * LogRetention.MIB),
                c.invoker().logRetention());
    }

    @Test
    void logRetentionFromFlagsOrEnvironment() {
        assertEquals(new LogRetention(16 * LogRetention.MIB, Duration.ofDays(30), 4 * LogRetention.MIB),
                Main.parse(new String[] {"--log-retention-days", "30"}, Map.of("KILN_LOG_RETENTION_MIB", "16"))
                        .invoker().logRetention());
        assertEquals(new LogRetention(1024 * LogRetention.MIB, Duration.ofDays(7), 8 * LogRetention.MIB),
                Main.parse(new String[] {"--log-retention-mib=1024"}, Map.of("KILN_LOG_RETENTION_MIB", "16"))
                        .invoker().logRetention());
        assertEquals("--log-retention-days must be from 1 to 36500, got 0", assertThrows(
                IllegalArgumentException.class, () -> Main.parse(new String[] {"--log-retention-days", "0"}, Map.of()))
                .getMessage());
        assertEquals("--log-retention-mib must be from 1 to 1048576, got 2000000", assertThrows(
                IllegalArgumentException.class, () -> Main.parse(new String[0],
                        Map.of("KILN_LOG_RETENTION_MIB", "2000000"))).getMessage());
    }

    @Test
    void theJailModeComesFromItsFlagOrEnvironmentAndIsChecked() {
        assertEquals("off", Main.parse(new String[0], Map.of("KILN_JAIL", "off")).invoker().jail());
        assertEquals("on", Main.parse(new String[] {"--jail", "on"}, Map.of("KILN_JAIL", "off")).invoker().jail());
        assertEquals("--jail must be one of auto, on, off; got \"yes\"", assertThrows(IllegalArgumentException.class,
                () -> Main.parse(new String[] {"--jail=yes"}, Map.of())).getMessage());
    }

    @Test
    void theJobsInputDirectoryComesFromItsFlagOrEnvironment() {
        assertEquals(Path.of("/srv/data"), Main.parse(new String[0], Map.of("KILN_JOBS_INPUT_DIR", "/srv/data"))
                .jobsInputDir());
        assertEquals(Path.of("/in"), Main.parse(new String[] {"--jobs-input-dir", "/in"},
                Map.of("KILN_JOBS_INPUT_DIR", "/srv/data")).jobsInputDir());
    }

    @Test
    void flagsWinOverEnvironment() {
        GatewayConfig c = Main.parse(new String[] {"--port", "9000", "--engine=process", "--rate-limit", "2.5",
                "--max-body-mib", "1"}, Map.of("KILN_PORT", "7000", "KILN_DATA", "/srv/kiln", "KILN_HOST", "0.0.0.0",
                "KILN_MEMORY_BUDGET_MIB", "2048", "KILN_RESTORE_TIMEOUT_S", "90"));
        assertEquals(9000, c.port());
        assertEquals("0.0.0.0", c.host());
        assertEquals(Path.of("/srv/kiln"), c.dataDir());
        assertEquals("process", c.invoker().engine());
        assertEquals(2048, c.invoker().memoryBudgetMib());
        assertEquals(Duration.ofSeconds(90), c.invoker().restoreTimeout());
        assertEquals(GatewayConfig.MIB, c.maxBodyBytes());
        assertEquals(2.5, c.rateLimit());
        assertEquals(3, c.rateBurst(), "the burst defaults to the rate rounded up");
    }

    @Test
    void mistakesAndHelp() {
        assertNull(Main.parse(new String[] {"--help"}, Map.of()));
        assertEquals("unknown option --prot", assertThrows(IllegalArgumentException.class,
                () -> Main.parse(new String[] {"--prot", "1"}, Map.of())).getMessage());
        assertEquals("--port must be a whole number, got \"http\"", assertThrows(IllegalArgumentException.class,
                () -> Main.parse(new String[] {"--port", "http"}, Map.of())).getMessage());
        assertEquals("--port needs a value", assertThrows(IllegalArgumentException.class,
                () -> Main.parse(new String[] {"--port"}, Map.of())).getMessage());
        assertEquals("--restore-timeout-s must be at least 1, got 0", assertThrows(IllegalArgumentException.class,
                () -> Main.parse(new String[] {"--restore-timeout-s", "0"}, Map.of())).getMessage());
    }
}
