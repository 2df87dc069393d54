package io.kiln.gateway.calls;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.dns.AddressResolverOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.impl.VertxInternal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Callback addresses through real name resolution: Vert.x's resolver reading a hosts file this
 * test writes (names under .test, which no DNS answers), re-read on every lookup so the test can
 * rebind a name between the check at submit and the send.
 */
class CallbackTargetsTest {

    @TempDir
    Path dir;
    private Path hosts;
    private Vertx vertx;
    private HttpServer receiver;
    private final List<String> hostHeaders = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        hosts = dir.resolve("hosts");
        Files.writeString(hosts, "127.0.0.1 hook.test\n10.0.0.7 private.test\n93.184.216.34 public.test\n");
        vertx = Vertx.vertx(new VertxOptions().setAddressResolverOptions(new AddressResolverOptions()
                .setHostsPath(hosts.toString()).setHostsRefreshPeriod(1)));
        receiver = vertx.createHttpServer().requestHandler(req -> {
            hostHeaders.add(req.getHeader("Host"));
            req.response().setStatusCode(204).end();
        }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    private static Throwable failure(Future<?> f) {
        return assertThrows(ExecutionException.class, () -> await(f)).getCause();
    }

    @Test
    void aNameResolvingToAPrivateAddressIsRefused() {
        CallbackTargets targets = new CallbackTargets(vertx, List.of());
        Throwable e = failure(targets.check("X-Kiln-Callback", "http://private.test:8080/hook"));
        assertInstanceOf(CallbackTargets.Forbidden.class, e);
        assertEquals("X-Kiln-Callback http://private.test:8080/hook resolves to 10.0.0.7, which is private (10/8);"
                + " the gateway does not send callbacks into internal networks. An operator can open it with"
                + " --callback-allow 10.0.0.7/32 (or its range)", e.getMessage());
        assertInstanceOf(CallbackTargets.Forbidden.class, failure(targets.check("cb", "http://hook.test/")));
    }

    @Test
    void aPublicNameOrAnAllowedRangePasses() throws Exception {
        CallbackTargets targets = new CallbackTargets(vertx, List.of(Cidr.parse("10.0.0.0/24")));
        CallbackTargets.Target t = await(targets.check("cb", "https://public.test/x?y=1"));
        assertEquals("https://public.test/x?y=1", t.url());
        assertEquals("93.184.216.34", t.address().host());
        assertEquals(443, t.address().port());
        assertEquals("10.0.0.7", await(targets.check("cb", "http://private.test:81/")).address().host());
        // The allow-list opens exactly what it names.
        assertInstanceOf(CallbackTargets.Forbidden.class, failure(targets.check("cb", "http://hook.test/")));
        assertInstanceOf(CallbackTargets.Forbidden.class, failure(targets.check("cb", "http://10.0.1.1/")));
    }

    @Test
    void literalsAndBadUrls() throws Exception {
        CallbackTargets targets = new CallbackTargets(vertx, List.of());
        assertEquals("cb http://[::1]/ is ::1, which is loopback (::1); the gateway does not send callbacks into"
                + " internal networks. An operator can open it with --callback-allow ::1/128 (or its range)",
                failure(targets.check("cb", "http://[::1]/")).getMessage());
        assertInstanceOf(CallbackTargets.Forbidden.class, failure(targets.check("cb", "http://[::ffff:127.0.0.1]/")));
        assertInstanceOf(CallbackTargets.Forbidden.class, failure(targets.check("cb", "http://0.0.0.0:80/")));
        assertEquals("8.8.8.8", await(targets.check("cb", "http://8.8.8.8/")).address().host());
        assertEquals("cb must be an absolute http or https URL with a host, got \"file:///etc/passwd\"",
                assertThrows(IllegalArgumentException.class, () -> targets.check("cb", "file:///etc/passwd"))
                        .getMessage());
    }

    /** What Vert.x's resolver answers for {@code name} now. */
    private String resolve(String name) throws Exception {
        Promise<List<InetSocketAddress>> p = Promise.promise();
        ((VertxInternal) vertx).addressResolver().resolveHostnameAll(name, p);
        return await(p.future()).get(0).getAddress().getHostAddress();
    }

    @Test
    void theSendChecksAgainAndConnectsToTheCheckedAddress() throws Exception {
        CallbackTargets targets = new CallbackTargets(vertx, List.of(Cidr.parse("127.0.0.1/32")));
        String url = "http://hook.test:" + receiver.actualPort() + "/done";
        try (Callbacks callbacks = new Callbacks(vertx, targets)) {
            await(targets.check("X-Kiln-Callback", url)); // what the submit checks
            await(callbacks.send(url, "0123456789abcdef", "{}".getBytes()));
            // Connected to 127.0.0.1, and the receiver saw the name it was given.
            assertEquals(List.of("hook.test:" + receiver.actualPort()), hostHeaders);

            // The name now points inside (DNS rebinding): the next send is refused, nothing is sent.
            Path next = dir.resolve("hosts.next");
            Files.writeString(next, "10.0.0.7 hook.test\n");
            Files.move(next, hosts, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!resolve("hook.test").equals("10.0.0.7")) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the resolver did not re-read its hosts file within 20 s");
                }
                Thread.onSpinWait();
            }
            Throwable e = failure(callbacks.send(url, "0123456789abcdef", "{}".getBytes()));
            assertInstanceOf(CallbackTargets.Forbidden.class, e);
            assertEquals("callback " + url + " resolves to 10.0.0.7, which is private (10/8); the gateway does not"
                    + " send callbacks into internal networks. An operator can open it with --callback-allow"
                    + " 10.0.0.7/32 (or its range)", e.getMessage());
            assertEquals(1, hostHeaders.size(), "nothing more reached the receiver");
        }
    }
}
