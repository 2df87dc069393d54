package io.kiln.gateway.testing;

import io.kiln.invoker.InvokerConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A real gateway in a process of its own ({@code io.kiln.gateway.Main} on this test's class
 * path), so that a test can {@code kill -9} it, stop it with SIGTERM, and start it again on the
 * same data directory and port. Its output goes to {@code gateway.log} in the data directory,
 * appended across restarts; {@link #tail} reads the end of it for failure messages.
 *
 * <p>Used by the queue's crash tests (one node) and by {@link ClusterNodes} (several nodes on one
 * PostgreSQL). Not thread-safe: one thread starts and stops a given process.
 */
public final class GatewayProcess {

    private static final Duration HEALTH_POLL = Duration.ofMillis(50);
    /** Every process started and not yet seen gone: a test JVM that exits takes them with it. */
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly),
                "gateway-processes-kill"));
    }

    private final Path data;
    private final int port;
    private final String engine;
    private final String queueUrl;
    private final List<String> extraArgs;
    private final Path log;
    private Duration startTimeout = Duration.ofSeconds(60);
    private Process process;

    /**
     * @param data      the data directory (created if missing; kept across restarts)
     * @param port      the port it listens on, on 127.0.0.1 ({@link #freePort()})
     * @param engine    {@code process}, {@code qemu-tcg}, {@code auto}, ...
     * @param queueUrl  its {@code --queue-url}: SQLite in {@code data}, or a PostgreSQL database
     * @param extraArgs flags after the others ({@code --node}, {@code --advertise-url}, ...); the
     *                  memory budget is 2048 MiB unless they give {@code --memory-budget-mib}
     */
    public GatewayProcess(Path data, int port, String engine, String queueUrl, List<String> extraArgs) {
        this.data = data;
        this.port = port;
        this.engine = engine;
        this.queueUrl = queueUrl;
        this.extraArgs = List.copyOf(extraArgs);
        this.log = data.resolve("gateway.log");
    }

    /** A port free on loopback at the moment (the usual race with other processes is accepted). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** How long {@link #start} waits for {@code /healthz} (default 60 s). */
    public GatewayProcess withStartTimeout(Duration timeout) {
        this.startTimeout = timeout;
        return this;
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return data;
    }

    /** The management token from its data directory (in cluster mode, the cluster's). */
    public String token() throws IOException {
        return Files.readString(data.resolve("token")).strip();
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    /** The process id, for messages; -1 before the first start. */
    public long pid() {
        return process == null ? -1 : process.pid();
    }

    /** Starts it and waits until {@code /healthz} answers 200 (or the start timeout passes). */
    public void start() throws IOException, InterruptedException {
        if (alive()) {
            throw new IllegalStateException("already running: " + url());
        }
        Files.createDirectories(data);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-D" + InvokerConfig.AGENT_JAR_PROPERTY + "=" + System.getProperty(InvokerConfig.AGENT_JAR_PROPERTY)));
        String guest = System.getProperty("kiln.guest.dir");
        if (guest != null && !guest.isBlank()) {
            cmd.add("-Dkiln.guest.dir=" + guest); // as ./test.sh passes it to Maven
        }
        String jailer = System.getProperty("kiln.jailer");
        if (jailer != null && !jailer.isBlank()) {
            cmd.add("-Dkiln.jailer=" + jailer); // as ./test.sh passes it to Maven
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.kiln.gateway.Main",
                "--host", "127.0.0.1", "--port", Integer.toString(port), "--data-dir", data.toString(),
                "--engine", engine, "--queue-url", queueUrl));
        if (!extraArgs.contains("--memory-budget-mib")) {
            cmd.addAll(List.of("--memory-budget-mib", "2048"));
        }
        cmd.addAll(extraArgs);
        // It inherits this JVM's environment: KILN_GUEST_DIR (the guest image) reaches it.
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        LIVE.add(process);
        process.onExit().thenAccept(LIVE::remove);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("the gateway on " + url() + " exited with " + process.exitValue()
                        + "; its log:\n" + tail());
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(url() + "/healthz"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(HEALTH_POLL.toMillis());
        }
        throw new IOException("the gateway on " + url() + " did not answer /healthz within " + startTimeout
                + "; its log:\n" + tail());
    }

    /** SIGKILL and wait for it to be gone: no drain, no shutdown hook; its agents die with it (pdeathsig). */
    public void kill9() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    /** SIGTERM and wait: the graceful stop (it drains, then exits). Returns its exit code, or -1 if not running. */
    public int stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            return process.waitFor();
        }
        return -1;
    }

    /** {@link #stop()} then {@link #start()}: the same data directory, port and flags. */
    public void restart() throws IOException, InterruptedException {
        stop();
        start();
    }

    /** The last 40 lines of its log. */
    public String tail() {
        return tail(40);
    }

    public String tail(int lines) {
        try {
            // Bytes, not readAllLines: a function's output may not be valid UTF-8.
            List<String> all = List.of(new String(Files.readAllBytes(log), StandardCharsets.UTF_8).split("\n"));
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public String toString() {
        return "gateway " + url() + " (" + data + ")";
    }
}
