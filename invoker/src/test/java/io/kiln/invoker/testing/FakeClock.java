package io.kiln.invoker.testing;

import io.kiln.invoker.call.Clock;

import java.time.Duration;
import java.util.PriorityQueue;

/** A clock that moves only when the test says: timers fire, in order, inside {@link #advance}. */
public final class FakeClock implements Clock {

    private record Timer(long due, long seq, Runnable task, boolean[] cancelled) {
    }

    private final PriorityQueue<Timer> timers = new PriorityQueue<>((a, b) -> a.due != b.due
            ? Long.compare(a.due, b.due) : Long.compare(a.seq, b.seq));
    private long now = 1_000_000_000L;
    private long seq;

    @Override
    public long nanoTime() {
        return now;
    }

    @Override
    public Cancellable schedule(Duration delay, Runnable task) {
        boolean[] cancelled = {false};
        timers.add(new Timer(now + delay.toNanos(), seq++, task, cancelled));
        return () -> cancelled[0] = true;
    }

    /** Moves time on by {@code d}, running every timer that falls due, each at its own time. */
    public void advance(Duration d) {
        long until = now + d.toNanos();
        while (!timers.isEmpty() && timers.peek().due <= until) {
            Timer t = timers.poll();
            now = Math.max(now, t.due);
            if (!t.cancelled[0]) {
                t.task.run();
            }
        }
        now = until;
    }

    /** Timers armed and not cancelled. */
    public int pending() {
        return (int) timers.stream().filter(t -> !t.cancelled[0]).count();
    }
}
