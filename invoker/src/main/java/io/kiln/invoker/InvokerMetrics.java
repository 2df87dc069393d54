package io.kiln.invoker;

import io.kiln.invoker.call.CallDispatcher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The invoker's meters. Names as Prometheus shows them: {@code kiln_calls_total{function,outcome}},
 * {@code kiln_starts_total{function,start="cold|warm"}}, {@code kiln_cold_start_seconds},
 * {@code kiln_invoke_seconds} (histograms), and gauges for the pool: {@code kiln_pool_live_instances},
 * {@code kiln_pool_queued_calls}, {@code kiln_pool_calls_in_flight}, {@code kiln_pool_memory_reserved_mib},
 * {@code kiln_pool_memory_idle_mib}, {@code kiln_pool_memory_budget_mib}.
 */
final class InvokerMetrics implements CallDispatcher.Events {
    // The gauges read the dispatcher's last published numbers: a scrape runs on an event loop
    // and must not wait for the dispatcher.

    private final MeterRegistry registry;

    InvokerMetrics(MeterRegistry registry, CallDispatcher dispatcher) {
        this.registry = registry;
        Gauge.builder("kiln.pool.live.instances", dispatcher, d -> d.poolStateNow().liveInstances())
                .description("instances alive: starting, busy and idle").register(registry);
        Gauge.builder("kiln.pool.queued.calls", dispatcher, d -> d.poolStateNow().queued())
                .description("calls waiting for an instance").register(registry);
        Gauge.builder("kiln.pool.calls.in.flight", dispatcher, d -> d.poolStateNow().inFlight())
                .description("calls being started or answered").register(registry);
        Gauge.builder("kiln.pool.memory.reserved.mib", dispatcher, d -> d.poolStateNow().reservedMib())
                .description("memory of busy, starting and minimum instances").register(registry);
        Gauge.builder("kiln.pool.memory.idle.mib", dispatcher, d -> d.poolStateNow().idleMib())
                .description("memory of evictable idle instances").register(registry);
        Gauge.builder("kiln.pool.memory.budget.mib", dispatcher, d -> d.poolStateNow().budgetMib())
                .description("the memory budget of all instances").register(registry);
    }

    void outcome(String function, String outcome) {
        Counter.builder("kiln.calls").description("calls by outcome: ok or the error code")
                .tag("function", function).tag("outcome", outcome).register(registry).increment();
    }

    @Override
    public void started(String function, boolean cold, long startUs) {
        Counter.builder("kiln.starts").description("instances taken for calls: warm from the pool or cold")
                .tag("function", function).tag("start", cold ? "cold" : "warm").register(registry).increment();
        if (cold) {
            Timer.builder("kiln.cold.start").description("restore (or boot and load) to ready")
                    .tag("function", function).publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
                    .register(registry).record(startUs, TimeUnit.MICROSECONDS);
        }
    }

    @Override
    public void answered(String function, long invokeUs) {
        Timer.builder("kiln.invoke").description("INVOKE sent to answer received")
                .tag("function", function).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(900))
                .register(registry).record(invokeUs, TimeUnit.MICROSECONDS);
    }
}
