package io.kiln.cli;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kiln describe} asks for environment values only with --show-env, and prints what it gets. */
class DescribeEnvTest {

    @TempDir
    Path home;
    private HttpServer server;
    private final List<String> asked = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            String query = ex.getRequestURI().getRawQuery();
            asked.add(ex.getRequestURI().getRawPath() + (query == null ? "" : "?" + query));
            String value = "reveal=env".equals(query) ? "hunter2" : "***";
            byte[] out = ("{\"name\":\"f\",\"version\":1,\"handler\":\"a.B\",\"config\":{\"env\":{\"SECRET\":\""
                    + value + "\"}}}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private TestCli.Result run(String... args) {
        return new TestCli(home).env("KILN_URL", "http://127.0.0.1:" + server.getAddress().getPort())
                .env("KILN_TOKEN", "t").run(args);
    }

    @Test
    void masksByDefaultAndRevealsWhenAsked() {
        TestCli.Result masked = run("describe", "f");
        assertEquals(0, masked.exit(), masked.toString());
        assertTrue(masked.out().contains("  env          SECRET=***\n"), masked.out());
        TestCli.Result shown = run("describe", "f", "--show-env");
        assertEquals(0, shown.exit(), shown.toString());
        assertTrue(shown.out().contains("  env          SECRET=hunter2\n"), shown.out());
        assertEquals(List.of("/v1/functions/f", "/v1/functions/f?reveal=env"), asked);
    }
}
