package io.kiln.testkit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.agent.FrameSink;
import io.kiln.agent.Json;
import io.kiln.agent.call.CallRunner;
import io.kiln.agent.load.HandlerResolver;
import io.kiln.agent.load.InitFailure;
import io.kiln.agent.load.InitRunner;
import io.kiln.agent.load.LoadSpec;
import io.kiln.agent.load.LoadedFunction;
import io.kiln.agent.log.LogRouter;
import io.kiln.function.HttpRequest;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.FrameType;
import io.kiln.protocol.InvokeFrame;

import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Calls a function in this JVM the way Kiln's agent calls it when it is deployed: the agent's
 * own init ({@code InitRunner}: static init, the no-argument constructor, before-snapshot
 * hooks) and its own call path ({@code CallRunner}: input binding, the handler, output mapping,
 * error reports). A unit test sees the status, headers, body and error a deployed call gives
 * (before the gateway's HTTP rules: see {@link Result}).
 *
 * <pre>{@code
 * FunctionTester fn = FunctionTester.of(Greeter.class);
 * Result r = fn.call("{\"name\":\"Ada\"}");
 * assertEquals("{\"message\":\"Hello, Ada!\"}", r.bodyText());
 * }</pre>
 *
 * <p>What differs from a deployed call: the handler runs in this JVM, on the caller's thread,
 * with the test's class path (a deployed function sees only its jar and the function API); the
 * timeout only sets {@code Context.remainingTime()}, nothing stops a call that overruns it;
 * {@code System.out} is not captured (log lines written through {@code Context.logger()} or
 * Lambda's logger are, in {@link Result#logs()}).
 */
public final class FunctionTester {

    private final LoadedFunction function;
    private final ByteArrayOutputStream channel;
    private final LogRouter logs;
    private final CallRunner runner;
    private final long timeoutMs;
    /** A tester's calls are numbered 1, 2, ...: {@code Context.callId()}, Lambda's request id {@code 0000000000000001}. */
    private long nextCallId = 1;

    private FunctionTester(LoadedFunction function, ByteArrayOutputStream channel, LogRouter logs,
                           long timeoutMs) {
        this.function = function;
        this.channel = channel;
        this.logs = logs;
        this.timeoutMs = timeoutMs;
        this.runner = new CallRunner(function, logs, new FrameCodec().limits().maxBody(FrameType.RESULT));
    }

    /** A tester for the handler class, with the defaults of {@link Builder}. */
    public static FunctionTester of(Class<?> handler) {
        return builder(handler).build();
    }

    /** A tester for {@code com.example.Fn} or {@code com.example.Fn::method}, as deployed with {@code --handler}. */
    public static FunctionTester of(String handler) {
        return builder(handler).build();
    }

    public static Builder builder(Class<?> handler) {
        return new Builder(handler.getName(), handler.getClassLoader());
    }

    public static Builder builder(String handler) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        return new Builder(handler, loader != null ? loader : FunctionTester.class.getClassLoader());
    }

    /** What {@code kiln deploy} would set: the function's name, environment, timeout, memory. */
    public static final class Builder {
        private final String handler;
        private final ClassLoader loader;
        private String name = "function";
        private final Map<String, String> env = new LinkedHashMap<>();
        private Duration timeout = Duration.ofMillis(LoadSpec.DEFAULT_TIMEOUT_MS);
        private int memoryMb = 256;

        private Builder(String handler, ClassLoader loader) {
            this.handler = Objects.requireNonNull(handler, "handler");
            this.loader = loader;
        }

        /** The function's name, as {@code Context.functionName()} (default {@code function}). */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /** One entry of {@code Context.environment()}, like {@code kiln deploy --env K=V}. */
        public Builder env(String key, String value) {
            env.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** The call deadline {@code Context.remainingTime()} counts down to (default 30 s; not enforced). */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("the timeout must be positive, got " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /** The memory Lambda's {@code Context.getMemoryLimitInMB()} reports (default 256). */
        public Builder memoryMb(int memoryMb) {
            if (memoryMb <= 0) {
                throw new IllegalArgumentException("memoryMb must be positive, got " + memoryMb);
            }
            this.memoryMb = memoryMb;
            return this;
        }

        /**
         * Initialises the function as the agent does at deploy.
         *
         * @throws InitFailedException if the class is missing, implements no handler interface,
         *                             or its static init, constructor or a before-snapshot hook threw
         */
        public FunctionTester build() {
            LoadSpec spec = new LoadSpec(handler, name, "test", Map.copyOf(env), timeout.toMillis(),
                    LoadSpec.DEFAULT_INIT_TIMEOUT_MS, memoryMb, LogRouter.DEFAULT_LIMIT);
            ByteArrayOutputStream channel = new ByteArrayOutputStream();
            LogRouter logs = new LogRouter(new FrameSink(channel, new FrameCodec(), e -> {
                throw new UncheckedIOException(e); // a byte array never fails
            }));
            // No work directory: it is where the agent unpacks a jar, and here the classes are loaded already.
            InitRunner init = new InitRunner(null, FunctionTester.class.getClassLoader(),
                    new HandlerResolver(Json.MAPPER.getTypeFactory()));
            ClassLoader previous = Thread.currentThread().getContextClassLoader();
            LoadedFunction fn;
            try {
                logs.enter(0, false);
                fn = init.init(spec, loader);
            } catch (InitFailure f) {
                throw new InitFailedException(f.phase(), f.getMessage(), f.getCause());
            } finally {
                Thread.currentThread().setContextClassLoader(previous);
                logs.idle();
            }
            synchronized (channel) {
                channel.reset(); // init's log lines are not any call's
            }
            return new FunctionTester(fn, channel, logs, timeout.toMillis());
        }
    }

    /** The handler's input and output types as the agent resolved them, like {@code java.util.List<java.lang.String>}. */
    public String inputType() {
        return function.handler().inputType().toCanonical();
    }

    public String outputType() {
        return function.handler().outputType().toCanonical();
    }

    /** A call with {@code body} as its UTF-8 request body, as {@code kiln invoke NAME --data BODY} makes it (POST /). */
    public Result call(String body) {
        return call(body.getBytes(StandardCharsets.UTF_8));
    }

    /** A call with these bytes as its body, POSTed to the function's URL. */
    public Result call(byte[] body) {
        return call(HttpRequest.builder().method("POST").path("/").body(body).build());
    }

    /**
     * A call as the gateway makes it for this HTTP request to {@code /function/NAME} + its path:
     * method, path, query and headers become the call's HTTP metadata, the body its input.
     */
    public synchronized Result call(HttpRequest request) {
        long callId = nextCallId++;
        ObjectNode meta = Json.object();
        ObjectNode http = meta.putObject("http")
                .put("method", request.method())
                .put("path", request.path())
                .put("query", request.query());
        var headers = http.putArray("headers");
        for (Map.Entry<String, String> h : request.headers().entries()) {
            headers.addArray().add(h.getKey()).add(h.getValue());
        }
        InvokeFrame invoke = new InvokeFrame(callId, Json.write(meta), request.body());
        long deadline = System.nanoTime() + Duration.ofMillis(timeoutMs).toNanos();
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        logs.enter(callId, false);
        try {
            return Result.of(runner.call(invoke, meta, deadline), drainLogs());
        } finally {
            logs.idle();
            Thread.currentThread().setContextClassLoader(previous);
        }
    }

    private byte[] drainLogs() {
        synchronized (channel) {
            byte[] frames = channel.toByteArray();
            channel.reset();
            return frames;
        }
    }
}
