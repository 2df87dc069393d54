package io.kiln.gateway.testing;

import io.kiln.agent.testing.Fixtures;
import io.kiln.gateway.Gateway;
import io.kiln.gateway.GatewayConfig;
import io.kiln.gateway.calls.Cidr;
import io.restassured.RestAssured;
import io.restassured.config.EncoderConfig;
import io.restassured.config.RestAssuredConfig;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Gateways for the tests, started once per test JVM and shared: {@link #vm()} on the real
 * engine ({@code auto}: QEMU TCG here), and named process-engine ones with their own limits
 * for tests that need no VM. Each has a fresh data directory under {@code target/gateway-test/};
 * all stop in a JVM shutdown hook. Fixture functions are deployed once per server
 * ({@link #ensure}) and reused by every test.
 */
public final class TestServer {

    /** Functions' memory on the VM server; the pool's budget there. */
    public static final int MEMORY_MIB = 256;
    public static final long BUDGET_MIB = 3072;

    private static TestServer vm;
    private static final Map<String, TestServer> PROCESS = new HashMap<>();
    private static final Set<TestServer> ALL = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (TestServer s : ALL) {
                s.gateway.shutdown(Duration.ofSeconds(5));
                // Snapshots are hundreds of MiB each: they go with the run (a killed run's stay
                // until the next one starts).
                try {
                    delete(s.dataDir());
                } catch (UncheckedIOException e) {
                    System.err.println("[test] could not delete " + s.dataDir() + ": " + e.getMessage());
                }
            }
        }, "test-servers-stop"));
    }

    private final String name;
    private final GatewayConfig config;
    private final LongSupplier nanoClock;
    private volatile Gateway gateway;
    private final Set<String> deployed = ConcurrentHashMap.newKeySet();

    private TestServer(String name, GatewayConfig config, LongSupplier nanoClock) {
        this.name = name;
        this.config = config;
        this.nanoClock = nanoClock;
        this.gateway = start(config, nanoClock);
        ALL.add(this);
    }

    private static Gateway start(GatewayConfig config, LongSupplier nanoClock) {
        long t = System.nanoTime();
        try {
            Gateway g = Gateway.start(config, nanoClock);
            System.out.println("[test] gateway on " + g.url() + ", engine " + g.invoker().engine().engine().name()
                    + ", data " + config.dataDir() + " (" + (System.nanoTime() - t) / 1_000_000 + " ms to start)");
            return g;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The shared server on the real engine. */
    public static synchronized TestServer vm() {
        if (vm == null) {
            // Callbacks to loopback are refused by default; GatewayAsyncTest's receiver listens on 127.0.0.1.
            GatewayConfig c = GatewayConfig.defaults(freshDir("vm")).withListen("127.0.0.1", 0)
                    .withCallbackAllow(List.of(Cidr.parse("127.0.0.1/32")));
            vm = new TestServer("vm", c.withInvoker(c.invoker().withEngine("auto").withMemoryBudgetMib(BUDGET_MIB)),
                    System::nanoTime);
        }
        return vm;
    }

    /** A shared process-engine server, made once per {@code name} with {@code tweak} applied to its config. */
    public static TestServer process(String name, UnaryOperator<GatewayConfig> tweak) {
        return process(name, tweak, System::nanoTime);
    }

    /** {@link #process(String, UnaryOperator)} whose rate limits go by {@code nanoClock}. */
    public static synchronized TestServer process(String name, UnaryOperator<GatewayConfig> tweak,
                                                  LongSupplier nanoClock) {
        return PROCESS.computeIfAbsent(name, n -> {
            GatewayConfig c = GatewayConfig.defaults(freshDir("process-" + n)).withListen("127.0.0.1", 0);
            c = c.withInvoker(c.invoker().withEngine("process").withMemoryBudgetMib(2048));
            return new TestServer("process-" + n, tweak.apply(c), nanoClock);
        });
    }

    private static Path freshDir(String name) {
        Path dir = Path.of(System.getProperty("kiln.test.work", "target/test-work")).resolve("gateway-test")
                .resolve(name).toAbsolutePath();
        delete(dir);
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Stops this server and starts a new one on the same data directory and configuration (a
     * new port): what a restart of the platform does. Tests that run later use the new one.
     */
    public synchronized void restart() {
        gateway.shutdown(Duration.ofSeconds(10));
        gateway = start(config, nanoClock);
    }

    public Gateway gateway() {
        return gateway;
    }

    public Path dataDir() {
        return config.dataDir();
    }

    public String url() {
        return gateway.url();
    }

    public String token() {
        return gateway.token().token();
    }

    /** A request to this server with the management token. */
    public RequestSpecification given() {
        return anonymous().header("Authorization", "Bearer " + token());
    }

    /** A request to this server without credentials. */
    public RequestSpecification anonymous() {
        return RestAssured.given().baseUri(url()).config(RestAssuredConfig.config().encoderConfig(
                EncoderConfig.encoderConfig().appendDefaultContentCharsetToContentTypeIfUndefined(false)));
    }

    /**
     * Deploys the fixtures' {@code handler} as {@code function} (with extra query parameters,
     * like {@code public=true}) unless this server already has it from an earlier test.
     */
    public void ensure(String function, String handler, String query) {
        if (deployed.contains(function)) {
            return;
        }
        synchronized (deployed) {
            if (deployed.contains(function)) {
                return;
            }
            long t = System.nanoTime();
            Response r = deploy(function, handler, query);
            if (r.statusCode() / 100 != 2) {
                throw new AssertionError("deploying " + function + " failed: " + r.statusCode() + " " + r.asString());
            }
            System.out.println("[test] " + name + ": deployed " + function + " (" + handler + ") in "
                    + (System.nanoTime() - t) / 1_000_000 + " ms");
            deployed.add(function);
        }
    }

    /** One deploy of the fixtures' jar, whatever the outcome. */
    public Response deploy(String function, String handler, String query) {
        String q = "handler=" + handler + "&memory=" + MEMORY_MIB + (query == null || query.isEmpty() ? "" : "&" + query);
        return given().contentType("application/java-archive").body(Fixtures.functions())
                .put("/v1/functions/" + function + "?" + q);
    }

    /** Forgets that {@code function} is deployed (a test deleted it). */
    public void forget(String function) {
        deployed.remove(function);
    }
}
