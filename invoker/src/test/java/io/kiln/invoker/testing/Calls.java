package io.kiln.invoker.testing;

import io.kiln.invoker.Invoker;
import io.kiln.invoker.call.CallException;
import io.kiln.invoker.call.CallRequest;
import io.kiln.invoker.call.CallResult;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertThrows;

/** Calling functions from tests: text in, result or error out, never waiting without bound. */
public final class Calls {

    private Calls() {
    }

    public static CompletableFuture<CallResult> start(Invoker invoker, String function, String input) {
        return invoker.invoke(function, CallRequest.of(input.getBytes(StandardCharsets.UTF_8)));
    }

    public static CallResult call(Invoker invoker, String function, String input) {
        return join(start(invoker, function, input));
    }

    public static String text(CallResult r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    public static CallResult join(CompletableFuture<CallResult> f) {
        try {
            return f.get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("call failed: " + e, e);
        }
    }

    /** {@link #join}, waiting up to {@code timeout}: for a call that first rebuilds snapshots. */
    public static CallResult join(CompletableFuture<CallResult> f, java.time.Duration timeout) {
        try {
            return f.get(timeout.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("call failed: " + e, e);
        }
    }

    /** The call's failure, which must be a {@link CallException}. */
    public static CallException failure(CompletableFuture<CallResult> f) {
        CompletionException e = assertThrows(CompletionException.class, () -> f.orTimeout(120, TimeUnit.SECONDS).join());
        if (e.getCause() instanceof CallException c) {
            return c;
        }
        throw new AssertionError("expected a CallException, got " + e.getCause(), e.getCause());
    }
}
