package io.kiln.microvm.qemu.qmp;

import io.kiln.microvm.qemu.ChannelStreams;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A client for QMP, QEMU's JSON control protocol, over its Unix socket.
 *
 * <p>One reader thread parses everything QEMU sends: replies complete the command with the
 * matching {@code id}; events go to the listener. Commands may be sent from any thread and
 * wait, bounded, for their reply.
 */
public final class QmpClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final SocketChannel socket;
    private final OutputStream out;
    private final Consumer<QmpEvent> events;
    private final Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final Duration commandTimeout;

    private QmpClient(SocketChannel socket, Consumer<QmpEvent> events, Duration commandTimeout) {
        this.socket = socket;
        this.out = ChannelStreams.output(socket);
        this.events = events;
        this.commandTimeout = commandTimeout;
    }

    /**
     * Connects to QEMU's QMP socket, retrying while QEMU is still creating it (as long as
     * {@code alive} says QEMU runs), and negotiates capabilities.
     */
    public static QmpClient connect(Path path, BooleanSupplier alive, Duration timeout, Consumer<QmpEvent> events) {
        long deadline = System.nanoTime() + timeout.toNanos();
        SocketChannel socket = null;
        while (socket == null) {
            try {
                SocketChannel s = SocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    s.connect(UnixDomainSocketAddress.of(path));
                    socket = s;
                } catch (IOException e) {
                    s.close();
                    if (!alive.getAsBoolean()) {
                        throw new QmpException("QEMU exited before its QMP socket " + path + " accepted a connection");
                    }
                    if (System.nanoTime() > deadline) {
                        throw new QmpException("QMP socket " + path + " not ready within " + timeout.toMillis() + " ms: " + e.getMessage());
                    }
                    Thread.sleep(2);
                }
            } catch (IOException e) {
                throw new QmpException("cannot open a Unix socket: " + e.getMessage(), null, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new QmpException("interrupted while connecting to QMP");
            }
        }
        QmpClient client = new QmpClient(socket, events, timeout);
        try {
            client.startReader();
            client.await(client.greeting, "the QMP greeting");
            client.execute("qmp_capabilities");
            return client;
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    private void startReader() {
        Thread reader = new Thread(this::readLoop, "kiln-qmp-reader");
        reader.setDaemon(true);
        reader.start();
    }

    private void readLoop() {
        InputStream in = ChannelStreams.input(socket);
        try (JsonParser parser = JSON.getFactory().createParser(in)) {
            while (parser.nextToken() != null) {
                JsonNode message = JSON.readTree(parser);
                dispatch(message);
            }
            failAll(new QmpException("QEMU closed the QMP connection"));
        } catch (IOException | RuntimeException e) {
            failAll(new QmpException("QMP connection failed: " + e.getMessage(), null, e));
        }
    }

    private void dispatch(JsonNode message) {
        if (message.has("QMP")) {
            greeting.complete(message);
        } else if (message.has("event")) {
            events.accept(new QmpEvent(message.get("event").asText(), message.path("data")));
        } else if (message.has("id")) {
            CompletableFuture<JsonNode> reply = pending.remove(message.get("id").asLong());
            if (reply != null) {
                reply.complete(message);
            }
        }
    }

    private void failAll(QmpException e) {
        greeting.completeExceptionally(e);
        closed.complete(null);
        pending.values().forEach(f -> f.completeExceptionally(e));
        pending.clear();
    }

    /** Runs a command without arguments; returns its {@code return} value. */
    public JsonNode execute(String command) {
        return execute(command, null);
    }

    /** Runs a command; returns its {@code return} value or throws with QEMU's error. */
    public JsonNode execute(String command, ObjectNode arguments) {
        long id = ids.incrementAndGet();
        ObjectNode request = JSON.createObjectNode().put("execute", command).put("id", id);
        if (arguments != null) {
            request.set("arguments", arguments);
        }
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        if (closed.isDone()) {
            pending.remove(id);
            throw new QmpException("QMP connection is closed; cannot run " + command);
        }
        try {
            byte[] bytes = JSON.writeValueAsBytes(request);
            synchronized (out) {
                out.write(bytes);
            }
        } catch (IOException e) {
            pending.remove(id);
            throw new QmpException("sending " + command + " failed: " + e.getMessage(), null, e);
        }
        JsonNode message = await(reply, command);
        if (message.has("error")) {
            JsonNode error = message.get("error");
            throw new QmpException(command + " failed: " + error.path("desc").asText(),
                    error.path("class").asText(), null);
        }
        return message.path("return");
    }

    /** A new, empty arguments object. */
    public static ObjectNode arguments() {
        return JSON.createObjectNode();
    }

    private JsonNode await(CompletableFuture<JsonNode> future, String what) {
        try {
            return future.get(commandTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new QmpException("no reply to " + what + " within " + commandTimeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof QmpException q ? q : new QmpException(e.getCause().toString(), null, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QmpException("interrupted while waiting for " + what);
        }
    }

    /** QEMU's version as the greeting reported it, e.g. {@code 7.2.22}. */
    public String qemuVersion() {
        JsonNode v = greeting.join().path("QMP").path("version").path("qemu");
        return v.path("major").asInt() + "." + v.path("minor").asInt() + "." + v.path("micro").asInt();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Nothing to do about a socket that will not close.
        }
    }
}
