package io.kiln.microvm.qemu.qmp;

import io.kiln.microvm.qemu.QemuBinary;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Talks QMP to a real QEMU that was started paused (-S), so no guest ever runs. */
class QmpClientTest {

    @TempDir
    Path dir;

    private Process qemu;

    private QmpClient start(List<QmpEvent> events) throws Exception {
        Path socket = dir.resolve("qmp.sock");
        qemu = new ProcessBuilder(QemuBinary.locate().toString(), "-M", "microvm", "-accel", "tcg", "-nodefaults",
                "-display", "none", "-S", "-qmp", "unix:" + socket + ",server=on,wait=off")
                .redirectErrorStream(true).start();
        return QmpClient.connect(socket, qemu::isAlive, Duration.ofSeconds(10), events::add);
    }

    @AfterEach
    void killQemu() {
        if (qemu != null) {
            qemu.destroyForcibly();
        }
    }

    @Test
    void negotiatesRunsCommandsAndReportsErrors() throws Exception {
        List<QmpEvent> events = new CopyOnWriteArrayList<>();
        try (QmpClient qmp = start(events)) {
            assertTrue(qmp.qemuVersion().matches("\\d+\\.\\d+\\.\\d+"), qmp.qemuVersion());
            var status = qmp.execute("query-status");
            assertEquals("prelaunch", status.path("status").asText());
            assertEquals(false, status.path("running").asBoolean());

            QmpException unknown = assertThrows(QmpException.class, () -> qmp.execute("no-such-command"));
            assertEquals("CommandNotFound", unknown.errorClass());
            assertEquals("no-such-command failed: The command no-such-command has not been found", unknown.getMessage());

            qmp.execute("quit");
            assertTrue(qemu.waitFor(10, TimeUnit.SECONDS));
            QmpException closed = assertThrows(QmpException.class, () -> qmp.execute("query-status"));
            assertTrue(closed.getMessage().contains("clos"), closed::getMessage);
        }
        assertTrue(events.stream().anyMatch(e -> e.name().equals("SHUTDOWN")), events::toString);
    }

    @Test
    void saysSoWhenQemuDiesBeforeTheSocketExists() {
        QmpException e = assertThrows(QmpException.class,
                () -> QmpClient.connect(dir.resolve("never.sock"), () -> false, Duration.ofSeconds(5), ev -> { }));
        assertEquals("QEMU exited before its QMP socket " + dir.resolve("never.sock") + " accepted a connection", e.getMessage());
    }
}
