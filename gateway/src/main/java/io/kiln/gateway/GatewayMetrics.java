package io.kiln.gateway;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's own meters, next to the invoker's in the same registry:
 * {@code kiln_gateway_requests_seconds{route,method,status}} (a histogram; its {@code _count}
 * is the number of requests by route and status). {@code route} is the OpenAPI path template
 * ({@code /function/{name}}), or {@code unmatched}.
 */
final class GatewayMetrics {

    private final MeterRegistry registry;

    GatewayMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void request(String route, String method, int status, long nanos) {
        Timer.builder("kiln.gateway.requests").description("HTTP requests, by route, method and status")
                .tag("route", route).tag("method", method).tag("status", Integer.toString(status))
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }
}
