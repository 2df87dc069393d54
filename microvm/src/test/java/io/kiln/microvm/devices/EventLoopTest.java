package io.kiln.microvm.devices;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Stopping the device loop reports whether its thread really ended: teardown unmaps guest RAM only then. */
class EventLoopTest {

    @Test
    void stopSaysFalseWhileAHandlerRunsAndTrueOnceItReturned() throws Exception {

        EventLoop loop = new EventLoop();
        loop.start();
        CountDownLatch inHandler = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        loop.post(() -> {
            inHandler.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(inHandler.await(30, TimeUnit.SECONDS));
        assertFalse(loop.stop(Duration.ofMillis(50)), "the handler is still running: the loop has not stopped");
        release.countDown();
        assertTrue(loop.stop(Duration.ofSeconds(30)), "the handler returned: the loop ends");
    }

    @Test
    void aLoopThatNeverStartedStopsAtOnce() {

        assertTrue(new EventLoop().stop(Duration.ZERO));
    }
}
