package io.kiln.gateway.cluster;

import io.kiln.invoker.Invoker;
import io.kiln.invoker.store.FunctionVersion;
import io.kiln.invoker.store.VersionFile;
import io.kiln.queue.catalog.CatalogEntry;
import io.kiln.queue.catalog.CatalogState;
import io.kiln.queue.catalog.CatalogVersion;
import io.kiln.queue.catalog.FunctionCatalog;
import io.kiln.queue.catalog.VersionConflict;

import java.io.IOException;
import java.nio.file.Files;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The one owner of "this node's functions match the shared catalog" (cluster mode). The
 * catalog is the truth; the invoker's store is this node's replica of it. At start, before the
 * node serves, the whole catalog is applied and local functions it does not have are deleted;
 * after that the changes since the last one applied, whenever a node NOTIFYs
 * {@link FunctionCatalog#CHANNEL} and every {@link #POLL} besides (a NOTIFY is lost while the
 * listening connection is down).
 *
 * <p>Applying a version installs it ({@link Invoker#install}: the jar is fetched from the
 * catalog unless this node has it; the snapshot is built at the first cold start). A version
 * this node deployed itself is found current already and costs nothing.
 *
 * <p>All of it runs on one thread of its own, which also holds the last change applied: JDBC
 * and jar downloads never touch an event loop. A change that cannot be applied (the database
 * or a jar download failed) is not passed: it and the ones after it are tried again at the next
 * wake-up or poll.
 */
public final class CatalogSync implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(CatalogSync.class.getName());
    static final Duration POLL = Duration.ofSeconds(5);

    private final FunctionCatalog catalog;
    private final Invoker invoker;
    private final Consumer<String> deleted;
    private final ScheduledExecutorService thread;
    private final AtomicBoolean wakePending = new AtomicBoolean();
    /** The last change applied; read and written on {@link #thread} only (and in {@link #start} before it runs). */
    private long applied;

    private CatalogSync(FunctionCatalog catalog, Invoker invoker, Consumer<String> deleted) {
        this.catalog = catalog;
        this.invoker = invoker;
        this.deleted = deleted;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kiln-catalog-sync");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Makes the invoker match the catalog (blocking: call it before the node serves), then
     * follows the catalog's changes.
     *
     * <p>A catalog that never held a function, on a node that has some (a single node's first
     * start in cluster mode), is seeded with the node's functions instead: their current
     * versions are published with their numbers, so nothing deployed is lost by joining.
     *
     * @param deleted told the name of each function deleted here because the catalog deleted it
     */
    public static CatalogSync start(FunctionCatalog catalog, Invoker invoker, Consumer<String> deleted)
            throws SQLException {
        CatalogSync sync = new CatalogSync(catalog, invoker, deleted);
        sync.reconcile();
        catalog.database().listen(FunctionCatalog.CHANNEL, sync::wake);
        sync.thread.scheduleWithFixedDelay(sync::catchUp, POLL.toMillis(), POLL.toMillis(), TimeUnit.MILLISECONDS);
        return sync;
    }

    private void reconcile() throws SQLException {
        CatalogState state = catalog.state();
        if (state.neverUsed() && !invoker.list().isEmpty()) {
            seed();
            state = catalog.state();
        }
        boolean all = true;
        for (CatalogEntry e : state.entries()) {
            all &= apply(e);
        }
        Set<String> live = state.live().stream().map(CatalogVersion::name).collect(Collectors.toSet());
        for (FunctionVersion local : invoker.list()) {
            if (!live.contains(local.name())) {
                all &= delete(local.name(), "it is not in the shared catalog");
            }
        }
        // After a failure, every row is looked at again at the next poll: the ones that match cost nothing.
        applied = all ? state.seq() : 0;
        LOG.log(System.Logger.Level.INFO, "catalog: " + state.live().size() + " function(s), change " + state.seq()
                + (all ? "" : "; some could not be applied and are tried again every " + POLL.toSeconds() + " s"));
    }

    /** Publishes this node's functions into a catalog that never held any. */
    private void seed() throws SQLException {
        List<FunctionVersion> local = invoker.list();
        LOG.log(System.Logger.Level.INFO, "catalog: the shared catalog is empty and this node has " + local.size()
                + " function(s): publishing them, so that the cluster starts with them");
        for (FunctionVersion v : local) {
            try {
                catalog.publish(toCatalog(v), () -> Files.newInputStream(invoker.jar(v)));
            } catch (VersionConflict e) {
                // Another node seeded it at the same time: the catalog's one wins, as after any race.
                LOG.log(System.Logger.Level.INFO, "catalog: " + v.name() + " was seeded by another node first");
            } catch (IOException | IllegalArgumentException e) {
                LOG.log(System.Logger.Level.WARNING, "catalog: could not publish " + v.id() + ": " + e.getMessage());
            }
        }
    }

    /** A version as the catalog stores it: its version file's text is its config. */
    public static CatalogVersion toCatalog(FunctionVersion v) {
        return new CatalogVersion(v.name(), v.version(), v.jarSha256(), v.jarSize(), VersionFile.toJson(v),
                v.createdAt().toEpochMilli());
    }

    /** Something changed (a NOTIFY): catch up on this class's thread, once for any number of wake-ups meanwhile. */
    private void wake() {
        if (wakePending.compareAndSet(false, true)) {
            try {
                thread.execute(this::catchUp);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                wakePending.set(false); // closing
            }
        }
    }

    /** Applies the changes since the last one applied, in order, stopping at one that fails. */
    private void catchUp() {
        wakePending.set(false);
        try {
            for (CatalogEntry e : catalog.changesSince(applied)) {
                if (!apply(e)) {
                    return;
                }
                applied = e.seq();
            }
        } catch (SQLException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "catalog: reading its changes failed; trying again in "
                    + POLL.toSeconds() + " s: " + e.getMessage());
        }
    }

    /** Makes this node's function match one catalog row; false if that failed (logged). */
    private boolean apply(CatalogEntry e) {
        String name = e.name();
        Optional<FunctionVersion> local = invoker.current(name);
        try {
            if (e.deleted()) {
                // Unless the name was deployed again since (here, say): that change comes next.
                return local.isEmpty() || stale(e) || delete(name, "it was deleted");
            }
            FunctionVersion v = VersionFile.fromJson(e.current().config());
            if (local.isPresent() && local.get().version() == v.version()
                    && local.get().jarSha256().equals(v.jarSha256())) {
                return true;
            }
            if (local.isPresent() && local.get().version() >= v.version()) {
                if (stale(e)) {
                    return true; // this node deployed a newer version meanwhile
                }
                // The name was deleted and deployed again while this node was away: its
                // numbers started again, and the catalog's function is the one that exists.
                if (!delete(name, "the catalog's " + v.id() + " replaces this node's " + local.get().id())) {
                    return false;
                }
            }
            // The invoker logs the install; a version this node deployed itself is no install.
            invoker.install(v, () -> {
                try {
                    return catalog.openJar(v.jarSha256());
                } catch (SQLException x) {
                    throw new IOException("fetching the jar of " + v.id() + ": " + x.getMessage(), x);
                }
            });
            return true;
        } catch (IOException | SQLException | RuntimeException x) {
            LOG.log(System.Logger.Level.WARNING, "catalog: could not apply change " + e.seq() + " (" + name + "@"
                    + (e.deleted() ? "deleted" : e.current().version()) + "); trying again in " + POLL.toSeconds()
                    + " s: " + x.getMessage());
            return false;
        }
    }

    /**
     * Whether the catalog has moved on from {@code e} since it was read: looked at again before
     * anything of this node's is deleted, so a change read just before this node's own deploy
     * committed cannot undo that deploy.
     */
    private boolean stale(CatalogEntry e) throws SQLException {
        Optional<CatalogVersion> now = catalog.current(e.name());
        if (e.deleted()) {
            return now.isPresent();
        }
        return now.isEmpty() || now.get().version() != e.current().version()
                || !now.get().jarSha256().equals(e.current().jarSha256());
    }

    private boolean delete(String name, String why) {
        try {
            if (invoker.delete(name)) {
                deleted.accept(name);
                LOG.log(System.Logger.Level.INFO, "catalog: " + name + " deleted on this node: " + why);
            }
            return true;
        } catch (IOException | RuntimeException x) {
            LOG.log(System.Logger.Level.WARNING, "catalog: could not delete " + name + ": " + x.getMessage());
            return false;
        }
    }

    /** Stops following the catalog; an apply under way finishes first (up to 10 s). */
    @Override
    public void close() {
        thread.shutdown();
        try {
            thread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
