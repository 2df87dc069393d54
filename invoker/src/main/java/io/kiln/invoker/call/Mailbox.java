package io.kiln.invoker.call;

import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Runs tasks one at a time, in the order they were posted, on whatever thread {@code runner}
 * gives it: an actor's mailbox. Posting never blocks (a lock-free queue and one CAS), so an
 * event loop, a timer or a channel reader can hand work to the dispatcher and go on.
 *
 * <p>With a direct runner (tests) the thread that posts first runs the tasks, and tasks posted
 * by a running task wait until it returns: still one at a time, and deterministic.
 */
public final class Mailbox implements Executor {

    private static final System.Logger LOG = System.getLogger(Mailbox.class.getName());

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
            try {
                runner.execute(this::drain);
            } catch (RejectedExecutionException stopped) {
                // The runner is shut down (the invoker closed): the poster runs the messages,
                // still one at a time (only the holder of "scheduled" drains), so a late call
                // is still refused and a late answer still delivered.
                drain();
            }
        }
    }

    /**
     * Runs {@code question} in the mailbox and waits for its answer; inline if already on the
     * mailbox's thread. For state queries (metrics, health, tests), never for the call path.
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

    private void drain() {
        draining = Thread.currentThread();
        try {
            while (true) {
                Runnable task = tasks.poll();
                if (task == null) {
                    scheduled.set(false);
                    // A task posted between the poll and the set found "scheduled" true and left
                    // it to us: take it back unless another drain has started meanwhile.
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
            draining = null;
        }
    }
}
