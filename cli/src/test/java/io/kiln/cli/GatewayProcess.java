package io.kiln.cli;

import io.kiln.microvm.process.ChildProcesses;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The real gateway, {@code io.kiln.gateway.Main}, as a child process of the test JVM (it dies
 * with it, however the JVM ends) on a free loopback port with its own data directory, started
 * from the test class path the build writes to {@code target/test-classpath.txt}.
 */
final class GatewayProcess {

    final String url;
    final Path dataDir;
    final String token;
    private final Process process;
    private final Path log;

    private GatewayProcess(String url, Path dataDir, String token, Process process, Path log) {
        this.url = url;
        this.dataDir = dataDir;
        this.token = token;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts a gateway on {@code engine} with its data under {@code work}, and {@code flags}
     * after the others; waits for /healthz.
     */
    static GatewayProcess start(Path work, String engine, Duration startTimeout, String... flags) throws Exception {
        Path dataDir = work.resolve("data");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String url = "http://127.0.0.1:" + port;
        String classpath = Files.readString(Path.of(System.getProperty("kiln.test.classpath"))).strip();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dkiln.agent.jar=" + System.getProperty("kiln.agent.jar")));
        String guest = System.getProperty("kiln.guest.dir");
        if (guest != null && !guest.isBlank()) {
            cmd.add("-Dkiln.guest.dir=" + guest); // as ./test.sh passes it to Maven
        }
        String jailer = System.getProperty("kiln.jailer");
        if (jailer != null && !jailer.isBlank()) {
            cmd.add("-Dkiln.jailer=" + jailer); // as ./test.sh passes it to Maven
        }
        cmd.addAll(List.of("-cp", classpath, "io.kiln.gateway.Main",
                "--host", "127.0.0.1", "--port", Integer.toString(port), "--data-dir", dataDir.toString(),
                "--engine", engine));
        cmd.addAll(List.of(flags));
        Path log = work.resolve("gateway.log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("KILN_"));
        Process process = ChildProcesses.start(pb);
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                fail("the gateway exited with " + process.exitValue() + ":\n" + Files.readString(log));
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/healthz")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    break;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                fail("the gateway did not answer /healthz within " + startTimeout + ":\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
        String token = Files.readString(dataDir.resolve("token")).strip();
        System.out.println("[test] gateway on " + url + " (" + engine + " engine), data " + dataDir);
        return new GatewayProcess(url, dataDir, token, process, log);
    }

    /** SIGTERM, a graceful shutdown that stops its instances; then the tail of its log. */
    void stop() throws Exception {
        process.destroy();
        if (!process.waitFor(40, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        List<String> all = Files.readString(log).lines().toList();
        System.out.println("[test] gateway log (tail):\n"
                + String.join("\n", all.subList(Math.max(0, all.size() - 15), all.size())));
    }
}
