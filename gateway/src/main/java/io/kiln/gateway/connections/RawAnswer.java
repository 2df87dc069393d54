package io.kiln.gateway.connections;

import io.kiln.gateway.cluster.Forwarder;
import io.kiln.gateway.http.ApiError;
import io.kiln.gateway.http.Json;
import io.kiln.gateway.http.Replies;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A whole HTTP/1.1 error answer as bytes, in the gateway's one error shape, for the moments the
 * connection layer answers by itself: no request reached Vert.x (a head that never finished, a
 * connection over the cap) or Vert.x is still waiting for a body. Always {@code Connection:
 * close}: the connection ends after it.
 */
final class RawAnswer {

    private RawAnswer() {
    }

    /** {@code extraHeaders} are written as given (names and values are constants of the gateway's). */
    static ByteBuf of(ApiError error, String node, Map<String, String> extraHeaders) {
        byte[] body = Json.buffer(Json.object().set("error", Replies.errorObject(error, 0))).getBytes();
        StringBuilder head = new StringBuilder("HTTP/1.1 ").append(error.status()).append(' ')
                .append(reason(error.status())).append("\r\n")
                .append("Content-Type: ").append(Replies.JSON).append("\r\n")
                .append("Content-Length: ").append(body.length).append("\r\n")
                .append("Connection: close\r\n")
                .append(Forwarder.NODE).append(": ").append(node).append("\r\n");
        if (error.retryAfter() != null) {
            head.append("Retry-After: ").append(Math.max(1, (error.retryAfter().toMillis() + 999) / 1000))
                    .append("\r\n");
        }
        extraHeaders.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        head.append("\r\n");
        return Unpooled.wrappedBuffer(head.toString().getBytes(StandardCharsets.US_ASCII), body);
    }

    private static String reason(int status) {
        return switch (status) {
            case 408 -> "Request Timeout";
            case 503 -> "Service Unavailable";
            default -> "Error";
        };
    }
}
