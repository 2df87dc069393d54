package io.kiln.invoker.bench;

import io.kiln.invoker.Invoker;
import io.kiln.invoker.call.CallRequest;
import io.kiln.invoker.call.CallResult;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code callers} threads calling one function back to back for a fixed time, each waiting for
 * its answer before the next call: calls per second and every call's latency as the caller saw
 * it. A wrong answer, a failed call or a cold start (the instances are meant to be kept) fails
 * the whole run.
 *
 * @param callers     concurrent callers
 * @param seconds     the measured time, from the first call's start to the last answer
 * @param latenciesUs every call's latency, in the order answers came
 * @param coldStarts  calls that had to start an instance
 */
record CallersRun(int callers, double seconds, long[] latenciesUs, int coldStarts) {

    double callsPerSecond() {
        return latenciesUs.length / seconds;
    }

    static CallersRun run(Invoker invoker, String function, byte[] input, int callers, double forSeconds)
            throws InterruptedException {
        // One list per caller: no lock between callers while they measure.
        List<List<Long>> perCaller = new ArrayList<>();
        int[] cold = new int[callers];
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(callers);
        long[] deadline = new long[1];
        for (int c = 0; c < callers; c++) {
            List<Long> mine = new ArrayList<>();
            perCaller.add(mine);
            int me = c;
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    while (System.nanoTime() < deadline[0]) {
                        long s = System.nanoTime();
                        CallResult r = invoker.invoke(function, CallRequest.of(input)).get(2, TimeUnit.MINUTES);
                        mine.add((System.nanoTime() - s) / 1000);
                        if (!Arrays.equals(input, r.body())) {
                            throw new IllegalStateException("wrong answer: " + new String(r.body()));
                        }
                        if (r.timings().cold()) {
                            cold[me]++;
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                } finally {
                    done.countDown();
                }
            }, "caller-" + c);
            t.start();
        }
        long begin = System.nanoTime();
        deadline[0] = begin + (long) (forSeconds * 1e9); // written before go.countDown(): the callers see it
        go.countDown();
        done.await();
        double elapsed = (System.nanoTime() - begin) / 1e9;
        if (!errors.isEmpty()) {
            throw new IllegalStateException(errors.size() + " of " + callers + " callers failed, first: "
                    + errors.get(0), errors.get(0));
        }
        long[] all = perCaller.stream().flatMap(List::stream).mapToLong(Long::longValue).toArray();
        return new CallersRun(callers, elapsed, all, Arrays.stream(cold).sum());
    }
}
