package io.kiln.invoker.call;

import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * An actor's mailbox: runs tasks one at a time, in the order they were posted. Posting never
 * waits for another thread: a poster that finds the mailbox idle runs the waiting tasks itself
 * (at most {@link #INLINE_BUDGET}, then hands the rest to {@code runner}); a poster that finds
 * it busy only enqueues. So the common case, an event loop or a channel reader posting to an
 * idle dispatcher, costs no thread switch, and no poster is ever held up for longer than a
 * few short tasks. The tasks must never block (the dispatcher's do not: slow work is handed
 * to other threads).
 *
 * <p>One at a time: only the thread that set {@code scheduled} runs tasks, and it clears the
 * flag only when the queue is empty, so runs never overlap and each sees the previous one's
 * writes (the flag is the hand-over). With a direct runner (tests) everything runs on the
 * posting thread, deterministically.
 */
public final class Mailbox implements Executor {

    private static final System.Logger LOG = System.getLogger(Mailbox.class.getName());
    /** Tasks a poster runs itself before it hands the rest to the runner. */
    static final int INLINE_BUDGET = 32;

    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Executor runner;
    private volatile Thread draining;

    public Mailbox(Executor runner) {
        this.runner = runner;
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        if (scheduled.compareAndSet(false, true)) {
            drain(INLINE_BUDGET);
        }
    }

    /**
     * Runs {@code question} in the mailbox and waits for its answer; inline if already on the
     * mailbox's thread. For state queries (tests, health), never for the call path.
     */
    public <T> T ask(Supplier<T> question) {
        if (draining == Thread.currentThread()) {
            return question.get();
        }
        CompletableFuture<T> answer = new CompletableFuture<>();
        execute(() -> {
            try {
                answer.complete(question.get());
            } catch (RuntimeException e) {
                answer.completeExceptionally(e);
            }
        });
        return answer.join();
    }

    /** Runs tasks while this thread holds {@code scheduled}; at most {@code budget}, then hands over. */
    private void drain(int budget) {
        draining = Thread.currentThread();
        try {
            for (int done = 0; ; done++) {
                if (done == budget) {
                    handOver();
                    return;
                }
                Runnable task = tasks.poll();
                if (task == null) {
                    scheduled.set(false);
                    // A task posted between the poll and the set found "scheduled" true and left
                    // it to us: take it back unless another poster has started running meanwhile.
                    if (tasks.isEmpty() || !scheduled.compareAndSet(false, true)) {
                        return;
                    }
                    continue;
                }
                try {
                    task.run();
                } catch (RuntimeException | AssertionError e) {
                    LOG.log(System.Logger.Level.ERROR, "a dispatcher task failed", e);
                }
            }
        } finally {
            if (draining == Thread.currentThread()) {
                draining = null;
            }
        }
    }

    /** The poster has run its share: the runner goes on (still holding {@code scheduled}). */
    private void handOver() {
        draining = null;
        try {
            runner.execute(() -> drain(Integer.MAX_VALUE));
        } catch (RejectedExecutionException stopped) {
            // The runner is shut down (the invoker closed): this thread finishes the work, so a
            // late call is still refused and a late answer still delivered.
            drain(Integer.MAX_VALUE);
        }
    }
}
