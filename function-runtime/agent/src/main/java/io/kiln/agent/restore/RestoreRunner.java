package io.kiln.agent.restore;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.agent.AgentOptions;
import io.kiln.agent.ErrorReport;
import io.kiln.agent.Json;
import io.kiln.function.Kiln;
import io.kiln.function.Lifecycle;
import io.kiln.protocol.Frame;
import io.kiln.protocol.RestoredFrame;

import java.util.List;

/**
 * After a restore, on the function thread, in this order: reseed the JDK's random state; in
 * guest mode feed the kernel pool and set the clock; then run the after-restore hooks in
 * registration order (so hooks see fresh randomness and the right time). All hooks run even if
 * one fails; the first failure is reported.
 */
public final class RestoreRunner {

    private final Reseeder reseeder;
    /** Guest mode only; null on a host. */
    private final GuestSystem guest;

    /** Guest mode: opens the served kiln-restore, if init started one, before any snapshot. */
    public RestoreRunner(AgentOptions options, Reseeder reseeder) {
        this.reseeder = reseeder;
        this.guest = options.guest()
                ? GuestSystem.open(options.restoreCommand(), options.restoreServeDir()) : null;
    }

    /**
     * @param epochMillis   the host's wall clock when it sent RESTORED, or null if absent
     * @param receivedNanos when RESTORED arrived, to add the time spent since
     * @param hooksFrom     the first registered hook that belongs to the loaded function
     * @param loader        the function's class loader (context loader for hooks), or null
     * @param timeoutMillis the restore's deadline (RESTORED's {@code restoreTimeoutMs})
     */
    public Frame restore(byte[] entropy, Long epochMillis, long receivedNanos, int hooksFrom,
                         ClassLoader loader, long timeoutMillis) {
        long started = System.nanoTime();
        ObjectNode ack = Json.object();
        Reseeder.Report seeds = reseeder.reseed(entropy);
        seeds.reseeded().forEach(ack.putArray("reseeded")::add);
        seeds.skipped().forEach(ack.putArray("skipped")::add);
        if (guest != null) {
            if (epochMillis != null) {
                ack.put("clockSkewMs", System.currentTimeMillis() - epochMillis
                        - (System.nanoTime() - receivedNanos) / 1_000_000);
            }
            long kernelStarted = System.nanoTime();
            GuestSystem.Result kernel = guest.restore(entropy, epochMillis, receivedNanos, timeoutMillis);
            ack.put("kernelEntropy", kernel.ok()).put("clockSet", kernel.ok() && epochMillis != null);
            ack.put("kernelVia", kernel.via()).put("kernelUs", (System.nanoTime() - kernelStarted) / 1000);
            if (kernel.error() != null) {
                ack.put("kernelError", kernel.error());
            }
            if (kernel.servedError() != null) {
                ack.put("servedError", kernel.servedError());
            }
        } else {
            ack.put("kernelEntropy", false).put("clockSet", false);
        }

        if (loader != null) {
            Thread.currentThread().setContextClassLoader(loader);
        }
        List<Lifecycle> hooks = Kiln.registered();
        Throwable first = null;
        int ran = 0;
        for (int i = Math.min(hooksFrom, hooks.size()); i < hooks.size(); i++) {
            try {
                ran++;
                hooks.get(i).afterRestore();
            } catch (Throwable t) {
                ErrorReport.rethrowIfFatal(t);
                if (first == null) {
                    first = t;
                } else {
                    first.addSuppressed(t);
                }
            }
        }
        ack.put("hooks", ran);
        ack.put("restoreUs", (System.nanoTime() - started) / 1000);
        if (first != null) {
            return ErrorReport.of(0, "restore_failed", "an after-restore hook failed: " + first,
                    first, Json.object().put("hooks", ran), Frame.NO_BODY);
        }
        return new RestoredFrame(Json.write(ack), Frame.NO_BODY);
    }
}
