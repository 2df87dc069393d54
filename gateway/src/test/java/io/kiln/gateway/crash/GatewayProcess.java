package io.kiln.gateway.crash;

import io.kiln.invoker.InvokerConfig;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real gateway in a process of its own ({@code io.kiln.gateway.Main} on this test's class
 * path), so that a test can {@code kill -9} it and start it again on the same data directory.
 */
final class GatewayProcess {

    private final Path data;
    private final int port;
    private final String queueUrl;
    private final String engine;
    private final Path log;
    private Process process;

    GatewayProcess(Path data, int port, String queueUrl, String engine) {
        this.data = data;
        this.port = port;
        this.queueUrl = queueUrl;
        this.engine = engine;
        this.log = data.resolve("gateway.log");
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    String token() throws IOException {
        return Files.readString(data.resolve("token")).strip();
    }

    /** Starts it and waits (up to 60 s) until {@code /healthz} answers 200. */
    void start() throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-D" + InvokerConfig.AGENT_JAR_PROPERTY + "=" + System.getProperty(InvokerConfig.AGENT_JAR_PROPERTY),
                "-cp", System.getProperty("java.class.path"), "io.kiln.gateway.Main",
                "--host", "127.0.0.1", "--port", Integer.toString(port), "--data-dir", data.toString(),
                "--engine", engine, "--queue-url", queueUrl, "--memory-budget-mib", "2048"));
        // It inherits this JVM's environment: KILN_GUEST_DIR (the guest image) reaches it.
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("the gateway exited with " + process.exitValue() + "; its log:\n" + tail());
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
            Thread.sleep(50);
        }
        throw new IOException("the gateway did not answer /healthz within 60 s; its log:\n" + tail());
    }

    /** SIGKILL: no drain, no shutdown hook; its agents die with it (pdeathsig). */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** SIGTERM and wait: the graceful stop. */
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            process.waitFor();
        }
    }

    String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
