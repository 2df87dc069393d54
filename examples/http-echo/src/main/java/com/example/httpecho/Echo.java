package com.example.httpecho;

import io.kiln.function.Context;
import io.kiln.function.Handler;
import io.kiln.function.HttpRequest;
import io.kiln.function.HttpResponse;

import java.util.List;
import java.util.Optional;

/**
 * Echoes the request as JSON: method, path, raw query and headers. {@code ?status=N} answers
 * with that status; the path {@code /binary} answers with the 256 byte values 0..255.
 */
public final class Echo implements Handler<HttpRequest, HttpResponse> {

    @Override
    public HttpResponse handle(HttpRequest request, Context ctx) {
        Optional<String> wanted = request.queryParameter("status");
        int status = wanted.map(Echo::status).orElse(200);
        if (status < 0) {
            return HttpResponse.text(400, "status must be a number from 100 to 599, not "
                    + wanted.get() + "\n");
        }
        if (request.path().equals("/binary")) {
            byte[] all = new byte[256];
            for (int i = 0; i < all.length; i++) {
                all[i] = (byte) i;
            }
            return HttpResponse.builder(status).header("Content-Type", "application/octet-stream")
                    .body(all).build();
        }
        return HttpResponse.json(status, echo(request));
    }

    /** The status asked for, or -1 if it is not one. */
    private static int status(String s) {
        try {
            int n = Integer.parseInt(s);
            return n >= 100 && n <= 599 ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** {@code {"method":..,"path":..,"query":..,"headers":{"Name":["value",..],..}}} */
    private static String echo(HttpRequest request) {
        StringBuilder json = new StringBuilder("{\"method\":").append(quote(request.method()))
                .append(",\"path\":").append(quote(request.path()))
                .append(",\"query\":").append(quote(request.query()))
                .append(",\"headers\":{");
        String comma = "";
        for (String name : request.headers().names()) {
            List<String> values = request.headers().all(name);
            json.append(comma).append(quote(name)).append(":[");
            for (int i = 0; i < values.size(); i++) {
                json.append(i == 0 ? "" : ",").append(quote(values.get(i)));
            }
            json.append(']');
            comma = ",";
        }
        return json.append("}}").toString();
    }

    /** A JSON string literal. */
    private static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
