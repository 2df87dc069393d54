package io.kiln.agent.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The agent as a real process: {@code java -cp <agent classes> io.kiln.agent.Main}. */
public final class AgentProcess extends AgentSession {

    private final Process process;
    private final StringBuffer stderr = new StringBuffer();

    private AgentProcess(Process process) {
        this.process = process;
        connect(process.getOutputStream(), process.getInputStream(), "agent-" + process.pid());
        Thread drain = new Thread(() -> {
            try (InputStream err = process.getErrorStream()) {
                byte[] buf = new byte[4096];
                for (int n; (n = err.read(buf)) > 0; ) {
                    stderr.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                stderr.append("[stderr: ").append(e).append(']');
            }
        }, "agent-stderr");
        drain.setDaemon(true);
        drain.start();
    }

    /** Starts an agent with default JVM options and these agent arguments. */
    public static AgentProcess start(String... agentArgs) {
        return start(List.of(), agentArgs);
    }

    public static AgentProcess start(List<String> jvmArgs, String... agentArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // A short-lived test JVM: C1 only and the serial collector start fastest on 2 cores.
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-Xshare:auto");
        cmd.add("--add-opens");
        cmd.add("java.base/sun.security.provider=ALL-UNNAMED");
        // Tests kill agents, which then cannot delete their work directories: keep those
        // under target/, not in the machine's /tmp.
        cmd.add("-Djava.io.tmpdir=" + tmp());
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(Classpath.agent());
        cmd.add("io.kiln.agent.Main");
        cmd.addAll(List.of(agentArgs));
        try {
            return new AgentProcess(new ProcessBuilder(cmd).start());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public int exitCode() {
        try {
            if (!process.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("agent did not exit within " + WAIT + diagnostics());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** What the agent wrote to its real stderr (in guest mode: the serial console). */
    public String stderr() {
        return stderr.toString();
    }

    @Override
    protected String diagnostics() {
        return "\n--- agent stderr ---\n" + stderr;
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }

    private static Path tmp() {
        try {
            return Files.createDirectories(Fixtures.work().resolve("agent-tmp")).toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
