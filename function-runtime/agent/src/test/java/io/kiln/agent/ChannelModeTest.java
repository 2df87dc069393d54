package io.kiln.agent;

import io.kiln.agent.testing.AgentProcess;
import io.kiln.agent.testing.AgentSession;
import io.kiln.agent.testing.Fixtures;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.ResultFrame;
import io.kiln.protocol.ShutdownFrame;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static io.kiln.agent.testing.AgentSession.expect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code --channel PATH} on a character device rather than stdio: a pty in raw mode made by a
 * small Python relay (skipped where there is no python3), the nearest a host test gets to the
 * guest's virtio-serial port. Raw, because a tty's line discipline would turn every 0x0A of a
 * frame into 0x0D 0x0A; this test would then fail on the first header.
 */
class ChannelModeTest {

    /** Opens a pty, makes it raw, prints the slave's path, then relays stdio to the master. */
    private static final String RELAY = String.join("\n",
            "import os, pty, select, sys, tty",
            "master, slave = pty.openpty()",
            "tty.setraw(slave)",
            "sys.stdout.write(os.ttyname(slave) + '\\n'); sys.stdout.flush()",
            "def put(fd, data):",
            "    while data:",
            "        data = data[os.write(fd, data):]",
            "while True:",
            "    ready, _, _ = select.select([0, master], [], [])",
            "    if 0 in ready:",
            "        data = os.read(0, 65536)",
            "        if not data: break",
            "        put(master, data)",
            "    if master in ready:",
            "        put(1, os.read(master, 65536))",
            "");

    private static final class PtySession extends AgentSession {
        private final Process relay;
        private final AgentProcess agent;

        PtySession(Process relay, InputStream relayOut, AgentProcess agent) {
            this.relay = relay;
            this.agent = agent;
            connect(relay.getOutputStream(), relayOut, "pty");
        }

        @Override
        public int exitCode() {
            return agent.exitCode();
        }

        @Override
        public void close() {
            agent.close();
            relay.destroyForcibly();
        }
    }

    @Test
    void framesOverARawTty() throws Exception {
        assumeTrue(python() != null, "no python3 to make a pty with");
        Path script = Fixtures.work().resolve("pty-relay.py");
        Files.writeString(script, RELAY);
        Process relay = new ProcessBuilder(python(), script.toString()).start();
        InputStream out = relay.getInputStream();
        String tty = readLine(out);
        assumeTrue(tty.startsWith("/dev/"), "no pty: " + tty);

        try (PtySession s = new PtySession(relay, out, AgentProcess.start("--channel", tty))) {
            s.ready();
            expect(s.load(Fixtures.functions(), "com.example.Bytes"), InitializedFrame.class, 0);
            byte[] every = new byte[256];
            for (int i = 0; i < 256; i++) {
                every[i] = (byte) i; // 0x0A, 0x0D, 0x11, 0x13, 0x03: all must pass untouched
            }
            ResultFrame r = expect(s.invoke(10, "", every), ResultFrame.class, 10);
            for (int i = 0; i < 256; i++) {
                assertEquals((byte) ~i, r.body()[i], "byte " + i);
            }
            s.send(new ShutdownFrame(""));
            assertEquals(ExitCodes.CLEAN, s.exitCode());
        }
        relay.waitFor(5, TimeUnit.SECONDS);
    }

    private static String python() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir, "python3");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
            line.write(b);
        }
        return line.toString(StandardCharsets.UTF_8);
    }
}
