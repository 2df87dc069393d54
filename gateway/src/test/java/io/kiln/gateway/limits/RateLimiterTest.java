package io.kiln.gateway.limits;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

class RateLimiterTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    @Test
    void aFullBucketAllowsTheBurstThenOneCallPerTokenAtTheRate() {
        RateLimiter r = new RateLimiter(2, 3, now::get);
        assertNull(r.acquire("f"));
        assertNull(r.acquire("f"));
        assertNull(r.acquire("f"));
        assertEquals(Duration.ofMillis(500), r.acquire("f"), "a token every 500 ms");
        now.addAndGet(250_000_000L);
        assertEquals(Duration.ofMillis(250), r.acquire("f"));
        now.addAndGet(250_000_000L);
        assertNull(r.acquire("f"));
        assertEquals(Duration.ofMillis(500), r.acquire("f"));
    }

    @Test
    void bucketsArePerFunctionAndRefillOnlyUpToTheBurst() {
        RateLimiter r = new RateLimiter(1, 1, now::get);
        assertNull(r.acquire("a"));
        assertNull(r.acquire("b"), "b has its own bucket");
        now.addAndGet(60_000_000_000L);
        assertNull(r.acquire("a"));
        assertEquals(Duration.ofSeconds(1), r.acquire("a"), "a minute idle still fills only one token");
        r.forget("a");
        assertNull(r.acquire("a"), "a forgotten function starts full");
    }

    @Test
    void zeroIsOff() {
        RateLimiter r = new RateLimiter(0, 1, now::get);
        assertFalse(r.enabled());
        for (int i = 0; i < 1000; i++) {
            assertNull(r.acquire("f"));
        }
    }
}
