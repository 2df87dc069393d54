package io.kiln.gateway.testing;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Function;

/**
 * A client that spreads requests over the nodes the way a plain HTTP load balancer does: round
 * robin over the nodes it thinks are up; a node is up while its {@code /healthz} answers 200
 * (checked every 100 ms by a thread of its own, like an active health check). A request refused
 * at connect, or answered 503 {@code shutting_down}, goes to the next node at once (nothing ran);
 * the node is then skipped until its health check passes again.
 *
 * <p>A connection that breaks after the request was sent is not retried silently: it is counted
 * ({@link #dropped()}) and the request is sent to the next node, so a caller whose requests are
 * safe to repeat (idempotency keys, idempotent functions) can assert on the count.
 */
public final class LoadBalancer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<String> urls;
    private final HttpClient http;
    private final AtomicIntegerArray up;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    private final AtomicInteger shuttingDown = new AtomicInteger();
    private final AtomicInteger dropped = new AtomicInteger();
    private final Thread checker;
    private volatile boolean closed;

    public LoadBalancer(List<String> urls) {
        this.urls = List.copyOf(urls);
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        this.up = new AtomicIntegerArray(urls.size());
        for (int i = 0; i < urls.size(); i++) {
            up.set(i, 1);
        }
        this.checker = new Thread(this::check, "load-balancer-health");
        checker.setDaemon(true);
        checker.start();
    }

    public static LoadBalancer over(List<GatewayProcess> nodes) {
        return new LoadBalancer(nodes.stream().map(GatewayProcess::url).toList());
    }

    public HttpClient http() {
        return http;
    }

    /**
     * Sends {@code request(nodeUrl)} to the next node that is up, moving on as described above,
     * until one answers with anything but 503 {@code shutting_down} or {@code deadline} passes.
     */
    public HttpResponse<String> send(Function<String, HttpRequest> request, Duration deadline)
            throws IOException, InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        IOException lastError = null;
        while (System.nanoTime() < end) {
            int i = pick();
            if (i < 0) {
                Thread.sleep(20); // every node is down: wait for a health check to pass
                continue;
            }
            try {
                HttpResponse<String> r = http.send(request.apply(urls.get(i)), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 503 && r.body().contains("\"shutting_down\"")) {
                    shuttingDown.incrementAndGet();
                    up.set(i, 0);
                    continue;
                }
                return r;
            } catch (ConnectException e) {
                refused.incrementAndGet();
                up.set(i, 0);
                lastError = e;
            } catch (HttpTimeoutException e) {
                throw e; // the request's own timeout: the caller's to judge
            } catch (IOException e) {
                dropped.incrementAndGet();
                up.set(i, 0);
                lastError = e;
                System.out.println("[lb] " + urls.get(i) + " dropped a request: " + e);
            }
        }
        throw new IOException("no node answered within " + deadline, lastError);
    }

    private int pick() {
        int n = urls.size();
        int start = Math.floorMod(next.getAndIncrement(), n);
        for (int k = 0; k < n; k++) {
            int i = (start + k) % n;
            if (up.get(i) == 1) {
                return i;
            }
        }
        return -1;
    }

    private void check() {
        while (!closed) {
            for (int i = 0; i < urls.size(); i++) {
                boolean ok;
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(urls.get(i) + "/healthz"))
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                    ok = r.statusCode() == 200 && JSON.readTree(r.body()).path("status").asText().equals("ok");
                } catch (IOException e) {
                    ok = false;
                } catch (InterruptedException e) {
                    return;
                }
                up.set(i, ok ? 1 : 0);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Requests refused at connect (moved to the next node). */
    public int refused() {
        return refused.get();
    }

    /** Requests answered 503 {@code shutting_down} (moved to the next node). */
    public int shuttingDown() {
        return shuttingDown.get();
    }

    /** Requests whose connection broke after they were sent (sent again to the next node). */
    public int dropped() {
        return dropped.get();
    }

    @Override
    public void close() {
        closed = true;
        checker.interrupt();
    }

    @Override
    public String toString() {
        return refused() + " refused at connect, " + shuttingDown() + " answered shutting_down, " + dropped()
                + " dropped after sending";
    }
}
