package io.kiln.gateway.http;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

/**
 * Reading request bodies with a limit. Must be called from the route's handler itself, before
 * anything asynchronous happens: body chunks that arrive with no handler set are lost.
 */
public final class Bodies {

    private Bodies() {
    }

    /** The declared Content-Length, -1 if none, or 400 if it is not a number. */
    public static long contentLength(HttpServerRequest request) {
        String cl = request.getHeader("Content-Length");
        if (cl == null) {
            return -1;
        }
        try {
            long n = Long.parseLong(cl.strip());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("Content-Length is not a number: " + cl);
        }
    }

    /** Checks the declared length against the limit before any body byte is read. */
    public static void checkDeclared(HttpServerRequest request, long limit, String what) {
        long declared = contentLength(request);
        if (declared > limit) {
            throw tooLarge(what, limit);
        }
    }

    public static ApiError tooLarge(String what, long limit) {
        return ApiError.tooLarge(what + " is larger than the limit of " + limit + " bytes");
    }

    /** Answers {@code Expect: 100-continue}: the checks before the body have passed. */
    public static void sendContinue(HttpServerRequest request) {
        String expect = request.getHeader("Expect");
        if (expect != null && expect.equalsIgnoreCase("100-continue") && request.version() != HttpVersion.HTTP_1_0) {
            request.response().writeContinue();
        }
    }

    /**
     * The whole body, or a failed future with a 413 {@link ApiError} as soon as it passes
     * {@code limit} (the rest is not read; the caller answers and closes the connection).
     */
    public static Future<Buffer> read(HttpServerRequest request, long limit, String what) {
        checkDeclared(request, limit, what);
        long declared = contentLength(request);
        Promise<Buffer> promise = Promise.promise();
        Buffer body = Buffer.buffer((int) Math.max(0, Math.min(declared, 64 * 1024)));
        request.handler(chunk -> {
            if (promise.future().isComplete()) {
                return;
            }
            if ((long) body.length() + chunk.length() > limit) {
                promise.tryFail(tooLarge(what, limit));
                return;
            }
            body.appendBuffer(chunk);
        });
        request.endHandler(v -> promise.tryComplete(body));
        request.exceptionHandler(promise::tryFail);
        sendContinue(request);
        return promise.future();
    }
}
