package io.kiln.queue.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The queue's store: a JDBC connection source with the schema migrated, transactions, and a
 * thread pool of its own so that no caller (the gateway's event loops least of all) ever waits
 * on a database.
 *
 * <ul>
 *   <li><b>SQLite</b> (the default, embedded): one connection, one thread. SQLite has one writer
 *       at a time anyway; one connection makes that explicit and needs no busy-retry. WAL
 *       journal with {@code synchronous=FULL}: a commit is on disk before the 202 that
 *       depends on it is sent, so neither {@code kill -9} nor a power cut loses an accepted
 *       call.</li>
 *   <li><b>PostgreSQL</b> (several nodes): a HikariCP pool and as many threads; claims use
 *       {@code SKIP LOCKED}, and {@link #listen} wakes workers on {@code NOTIFY}.</li>
 * </ul>
 */
public final class Database implements AutoCloseable {

    /** The NOTIFY channel an enqueue signals on PostgreSQL. */
    public static final String CHANNEL = "kiln_queue";
    private static final System.Logger LOG = System.getLogger(Database.class.getName());

    /** Work done in one transaction; committed when it returns, rolled back when it throws. */
    @FunctionalInterface
    public interface Tx<T> {
        T run(Connection c) throws SQLException;
    }

    private final String url;
    private final Dialect dialect;
    private final HikariDataSource pool;      // PostgreSQL
    private final Connection sqlite;          // SQLite
    private final ReentrantLock sqliteLock = new ReentrantLock();
    private final ExecutorService executor;
    private volatile Thread listener;
    private volatile boolean closed;

    private Database(String url, int threads) throws SQLException {
        this.url = url;
        this.dialect = Dialect.of(url);
        AtomicInteger n = new AtomicInteger();
        if (dialect == Dialect.SQLITE) {
            this.pool = null;
            this.sqlite = DriverManager.getConnection(url);
            try (Statement s = sqlite.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=FULL");
                s.execute("PRAGMA busy_timeout=10000");
            }
            threads = 1;
        } else {
            HikariConfig hc = new HikariConfig();
            hc.setJdbcUrl(url);
            hc.setMaximumPoolSize(threads + 1);
            hc.setPoolName("kiln-queue");
            hc.setConnectionTimeout(10_000);
            hc.setInitializationFailTimeout(10_000);
            this.pool = new HikariDataSource(hc);
            this.sqlite = null;
        }
        this.executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "kiln-queue-db-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Opens the store and brings its schema up to date.
     *
     * @param url     {@code jdbc:sqlite:FILE} or {@code jdbc:postgresql://...}
     * @param threads database threads (and connections) for PostgreSQL; SQLite always has one
     */
    public static Database open(String url, int threads) throws SQLException {
        if (url.startsWith("jdbc:sqlite:")) {
            Path file = Path.of(url.substring("jdbc:sqlite:".length()));
            try {
                if (file.getParent() != null) {
                    Files.createDirectories(file.getParent());
                }
            } catch (java.io.IOException e) {
                throw new SQLException("cannot create the directory of " + file + ": " + e.getMessage(), e);
            }
        }
        Database db = new Database(url, threads);
        try {
            db.transaction(c -> Migrations.apply(c));
        } catch (SQLException | RuntimeException e) {
            db.close();
            throw e;
        }
        return db;
    }

    /** The embedded store in {@code dataDir}: {@code queue.db}. */
    public static String sqliteUrl(Path dataDir) {
        return "jdbc:sqlite:" + dataDir.resolve("queue.db").toAbsolutePath();
    }

    public Dialect dialect() {
        return dialect;
    }

    /** The URL without credentials, for logs and {@code /healthz}. */
    public String describe() {
        String u = url.replaceAll("password=[^&]*", "password=***");
        return dialect == Dialect.SQLITE ? "SQLite " + u.substring("jdbc:sqlite:".length()) : "PostgreSQL " + u;
    }

    /** The schema version this build's migrations make: the number of migrations it has. */
    public static int knownSchemaVersion() {
        return Migrations.available().size();
    }

    public int schemaVersion() throws SQLException {
        return transaction(Migrations::current);
    }

    /** Runs {@code tx} in one transaction on the calling thread. */
    public <T> T transaction(Tx<T> tx) throws SQLException {
        if (closed) {
            throw new SQLException("the queue's store is closed");
        }
        if (sqlite != null) {
            sqliteLock.lock();
            try {
                return run(sqlite, tx);
            } finally {
                sqliteLock.unlock();
            }
        }
        try (Connection c = pool.getConnection()) {
            return run(c, tx);
        }
    }

    private static <T> T run(Connection c, Tx<T> tx) throws SQLException {
        c.setAutoCommit(false);
        try {
            T out = tx.run(c);
            c.commit();
            return out;
        } catch (SQLException | RuntimeException | Error e) {
            try {
                c.rollback();
            } catch (SQLException r) {
                e.addSuppressed(r);
            }
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /** Work that blocks on the store, such as a {@code QueueStore} method (which makes its own transaction). */
    @FunctionalInterface
    public interface Blocking<T> {
        T get() throws SQLException;
    }

    /**
     * Runs {@code tx} in one transaction on the store's own threads.
     *
     * <p>On SQLite, submitted transactions are group-committed: the store's thread takes every
     * one waiting, runs each inside a savepoint of one transaction (a failing one rolls back to
     * its savepoint alone), commits once and then completes them all. Each stays atomic on its
     * own, and none is answered before the commit that holds it is on disk; but N waiting
     * commits cost one fsync instead of N, which is what bounds a single writer's rate.
     */
    public <T> CompletableFuture<T> submit(Tx<T> tx) {
        if (sqlite == null) {
            return async(() -> transaction(tx));
        }
        CompletableFuture<T> f = new CompletableFuture<>();
        group.add(new Grouped<>(tx, f));
        try {
            executor.execute(this::commitGroup);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            group.remove();
            f.completeExceptionally(new SQLException("the queue's store is closed"));
        }
        return f;
    }

    private record Grouped<T>(Tx<T> tx, CompletableFuture<T> future) {
        void run(Connection c, List<Runnable> done) throws SQLException {
            T out = tx.run(c);
            done.add(() -> future.complete(out));
        }
    }

    /** Bounded so that one commit never holds the writer for long. */
    static final int MAX_GROUP = 256;
    private final java.util.concurrent.ConcurrentLinkedQueue<Grouped<?>> group =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    /** On the store's one SQLite thread: everything submitted so far, in one commit. */
    private void commitGroup() {
        List<Grouped<?>> batch = new ArrayList<>();
        Grouped<?> g;
        while (batch.size() < MAX_GROUP && (g = group.poll()) != null) {
            batch.add(g);
        }
        if (batch.isEmpty()) {
            return; // an earlier run took this one's work
        }
        List<Runnable> done = new ArrayList<>();
        try {
            transaction(c -> {
                int n = 0;
                for (Grouped<?> item : batch) {
                    String sp = "g" + n++;
                    try (Statement s = c.createStatement()) {
                        s.execute("SAVEPOINT " + sp);
                    }
                    try {
                        item.run(c, done);
                        try (Statement s = c.createStatement()) {
                            s.execute("RELEASE " + sp);
                        }
                    } catch (SQLException | RuntimeException e) {
                        try (Statement s = c.createStatement()) {
                            s.execute("ROLLBACK TO " + sp);
                            s.execute("RELEASE " + sp);
                        }
                        done.add(() -> item.future().completeExceptionally(e));
                    }
                }
                return null;
            });
            done.forEach(Runnable::run);
        } catch (SQLException | RuntimeException e) {
            for (Grouped<?> item : batch) {
                item.future().completeExceptionally(e);
            }
        }
    }

    /** Runs {@code work} on the store's own threads: callers never wait on the database themselves. */
    public <T> CompletableFuture<T> async(Blocking<T> work) {
        CompletableFuture<T> f = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    f.complete(work.get());
                } catch (Throwable e) {
                    f.completeExceptionally(e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            f.completeExceptionally(new SQLException("the queue's store is closed"));
        }
        return f;
    }

    /**
     * PostgreSQL: calls {@code wake} whenever any node NOTIFYs {@link #CHANNEL}, from a thread
     * of its own holding one connection. SQLite: nothing (one process; the queue wakes its
     * workers itself).
     */
    public void listen(Runnable wake) {
        listen(CHANNEL, wake);
    }

    /**
     * PostgreSQL: calls {@code wake} whenever any node NOTIFYs {@code channel} (and once when
     * listening starts or resumes after a lost connection, for what was sent meanwhile). Every
     * channel shares one thread and one connection, so a listener costs no pool connection.
     * SQLite: nothing.
     */
    public void listen(String channel, Runnable wake) {
        if (dialect != Dialect.POSTGRES) {
            return;
        }
        if (!channel.matches("[a-z_]{1,63}")) {
            throw new IllegalArgumentException("a channel is lowercase letters and '_', got " + channel);
        }
        synchronized (listeners) {
            listeners.computeIfAbsent(channel, k -> new CopyOnWriteArrayList<>()).add(wake);
            if (listener == null) {
                Thread t = new Thread(this::listenLoop, "kiln-queue-listen");
                t.setDaemon(true);
                listener = t;
                t.start();
            }
        }
    }

    /** Channel to its wakers; a channel added while listening is LISTENed to within a second. */
    private final java.util.Map<String, List<Runnable>> listeners = new java.util.concurrent.ConcurrentHashMap<>();

    private void listenLoop() {
        while (!closed) {
            try (Connection c = pool.getConnection()) {
                java.util.Set<String> listening = new java.util.HashSet<>();
                PGConnection pg = c.unwrap(PGConnection.class);
                while (!closed) {
                    for (String channel : List.copyOf(listeners.keySet())) {
                        if (listening.add(channel)) {
                            try (Statement s = c.createStatement()) {
                                s.execute("LISTEN " + channel);
                            }
                            wakeAll(channel); // anything sent while not listening
                        }
                    }
                    PGNotification[] got = pg.getNotifications(1000);
                    if (got != null) {
                        java.util.Set<String> woken = new java.util.HashSet<>();
                        for (PGNotification n : got) {
                            if (woken.add(n.getName())) {
                                wakeAll(n.getName());
                            }
                        }
                    }
                }
            } catch (SQLException e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.WARNING, "the store's LISTEN connection failed; retrying in 1 s: "
                            + e.getMessage());
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        }
    }

    private void wakeAll(String channel) {
        for (Runnable wake : listeners.getOrDefault(channel, List.of())) {
            try {
                wake.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "a listener of " + channel + " failed: " + e);
            }
        }
    }

    /** Inside a transaction: tells every listening node that work is ready, at commit. */
    public void notifyReady(Connection c) throws SQLException {
        notify(c, CHANNEL);
    }

    /** Inside a transaction: NOTIFYs {@code channel} at commit (PostgreSQL; nothing on SQLite). */
    public void notify(Connection c, String channel) throws SQLException {
        if (dialect == Dialect.POSTGRES) {
            try (java.sql.PreparedStatement s = c.prepareStatement("SELECT pg_notify(?, '')")) {
                s.setString(1, channel);
                s.execute();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        executor.shutdown();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Thread l = listener;
        if (l != null) {
            l.interrupt();
        }
        if (pool != null) {
            pool.close();
        }
        if (sqlite != null) {
            sqliteLock.lock();
            try {
                sqlite.close();
            } catch (SQLException e) {
                LOG.log(System.Logger.Level.WARNING, "closing the queue's SQLite store: " + e.getMessage());
            } finally {
                sqliteLock.unlock();
            }
        }
    }
}
