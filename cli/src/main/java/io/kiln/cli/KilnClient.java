package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The server's HTTP API (docs/API.md) over the JDK's client, HTTP/1.1. Every failure to talk
 * to the server becomes a {@link CliException} with {@link Exit#UNREACHABLE}; refused requests
 * become the message {@link ServerErrors} makes of them.
 */
public final class KilnClient {

    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final Settings settings;
    private final HttpClient http;

    public KilnClient(Settings settings) {
        this.settings = settings;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    public Settings settings() {
        return settings;
    }

    /** One path segment, percent-encoded. */
    public static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A request to {@code path} on the server, with the token if there is one. */
    public HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(settings.resolve(path))
                .header("User-Agent", "kiln-cli/" + Kiln.version());
        if (settings.token() != null) {
            b.header("Authorization", "Bearer " + settings.token());
        }
        return b;
    }

    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body) {
        try {
            return http.send(request, body);
        } catch (HttpConnectTimeoutException e) {
            throw new CliException(Exit.UNREACHABLE, "Cannot reach the Kiln server at " + settings.url()
                    + ": it did not accept a connection within " + CONNECT_TIMEOUT.toSeconds() + " s.", e);
        } catch (ConnectException e) {
            if (causedBy(e, UnresolvedAddressException.class)) {
                throw new CliException(Exit.UNREACHABLE, "Cannot reach the Kiln server at " + settings.url()
                        + ": the host name '" + settings.url().getHost() + "' does not resolve.", e);
            }
            throw ServerErrors.unreachable(settings.url());
        } catch (IOException e) {
            if (Thread.currentThread().isInterrupted()) {
                throw new Interrupted();
            }
            throw new CliException(Exit.UNREACHABLE, "Lost the connection to the Kiln server at " + settings.url()
                    + (e.getMessage() == null ? "." : ": " + e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Interrupted();
        }
    }

    /** GET {@code path}: its JSON, or the failure (about {@code function}, if not null). */
    public JsonNode getJson(String path, String function) {
        HttpResponse<byte[]> r = send(request(path).GET().header("Accept", "application/json").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        return json(r, function);
    }

    /** The body of a 2xx answer as JSON, or the failure. */
    public JsonNode json(HttpResponse<byte[]> r, String function) {
        if (r.statusCode() / 100 != 2) {
            throw ServerErrors.of(r.statusCode(), r.body(), settings, function);
        }
        JsonNode node = Json.parse(r.body());
        if (node == null) {
            throw new CliException(Exit.FAILED, "The server at " + settings.url() + " answered " + r.statusCode()
                    + " with something that is not JSON: is it a Kiln server?");
        }
        return node;
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** The thread was interrupted (a test stopping {@code logs -f}); the command ends quietly. */
    public static final class Interrupted extends RuntimeException {
        Interrupted() {
            super("interrupted", null, false, false);
        }
    }
}
