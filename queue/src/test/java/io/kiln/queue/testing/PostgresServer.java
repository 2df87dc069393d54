package io.kiln.queue.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real PostgreSQL server for tests, one per JVM, started on first use by
 * {@code scripts/test-postgres.sh} in a temporary directory and stopped by a shutdown hook.
 *
 * <p>Real, not emulated: the queue relies on what only the server itself does (row locks with
 * {@code SKIP LOCKED}, {@code LISTEN/NOTIFY}). Shared, because a start costs about a second and
 * {@link #freshDatabase} already gives each test class an empty schema. Never skipped: if
 * PostgreSQL is missing, {@link #shared()} throws with the script's advice (run
 * {@code KILN_SETUP_TESTS=1 scripts/setup.sh}, as ./test.sh does), so a machine without it fails the build
 * instead of passing quietly.
 *
 * <p>It lives in kiln-queue's test-jar so that other modules' tests share the same server code.
 */
public final class PostgresServer {

    /** Where {@code kiln.repo} is unset, the repository root is found by walking up to this. */
    static final String SCRIPT = "scripts/test-postgres.sh";

    /** initdb plus start is about a second; this only bounds a hung script. */
    private static final long START_TIMEOUT_SECONDS = 120;
    private static final long STOP_TIMEOUT_SECONDS = 30;

    private static final Pattern JDBC_URL =
            Pattern.compile("(jdbc:postgresql://[^/]+/)([^?]+)(\\?.*)?");

    private static PostgresServer shared;
    private static RuntimeException sharedFailure;

    private final Path script;
    private final Path dir;
    private final String jdbcUrl;

    private PostgresServer(Path script, Path dir, String jdbcUrl) {
        this.script = script;
        this.dir = dir;
        this.jdbcUrl = jdbcUrl;
    }

    /**
     * The JVM's server, started on the first call. A failed start is remembered and thrown again
     * on every later call, rather than retried once per test class.
     */
    public static synchronized PostgresServer shared() {
        if (shared != null) {
            return shared;
        }
        if (sharedFailure != null) {
            throw new IllegalStateException(sharedFailure.getMessage(), sharedFailure);
        }
        try {
            shared = start(findScript());
        } catch (RuntimeException e) {
            sharedFailure = e;
            throw e;
        }
        PostgresServer server = shared;
        Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "kiln-test-postgres-stop"));
        return shared;
    }

    /** The {@code kiln} database, as {@code jdbc:postgresql://127.0.0.1:PORT/kiln?user=postgres}. */
    public String jdbcUrl() {
        return jdbcUrl;
    }

    /**
     * Creates a new, empty database and returns its JDBC URL, so that a test class starts from
     * an empty schema on the shared server without cleaning up after others.
     *
     * @param prefix the start of the database's name, to tell whose it is in the server's log;
     *               anything but letters, digits and '_' is replaced
     */
    public String freshDatabase(String prefix) {
        String name = databaseName(prefix);
        try (Connection connection = DriverManager.getConnection(jdbcUrl);
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("could not create database " + name + " on " + jdbcUrl, e);
        }
        return withDatabase(jdbcUrl, name);
    }

    /** A lower-case name, valid unquoted, within PostgreSQL's 63 bytes, unique across JVMs. */
    static String databaseName(String prefix) {
        String safe = prefix.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        if (safe.isEmpty() || !Character.isLetter(safe.charAt(0))) {
            safe = "db_" + safe;
        }
        if (safe.length() > 40) {
            safe = safe.substring(0, 40);
        }
        return safe + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    }

    static String withDatabase(String url, String database) {
        Matcher m = JDBC_URL.matcher(url);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a jdbc:postgresql URL with a database: " + url);
        }
        return m.group(1) + database + (m.group(3) == null ? "" : m.group(3));
    }

    /**
     * The script: under the {@code kiln.repo} system property when set (surefire sets it), else
     * in the first directory up from the working directory that has it.
     */
    static Path findScript() {
        String repo = System.getProperty("kiln.repo");
        if (repo != null && !repo.isBlank()) {
            Path script = Paths.get(repo).resolve(SCRIPT).toAbsolutePath().normalize();
            if (!Files.isRegularFile(script)) {
                throw new IllegalStateException("kiln.repo=" + repo + " has no " + SCRIPT);
            }
            return script;
        }
        Path start = Paths.get("").toAbsolutePath();
        for (Path d = start; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve(SCRIPT))) {
                return d.resolve(SCRIPT);
            }
        }
        throw new IllegalStateException("no " + SCRIPT + " in " + start
                + " or any parent; set -Dkiln.repo to Kiln's repository root");
    }

    private static PostgresServer start(Path script) {
        Path dir;
        try {
            // The script chowns this directory to the server's user; its parent, java.io.tmpdir,
            // must let that user through (as /tmp does).
            dir = Files.createTempDirectory("kiln-test-postgres-");
        } catch (IOException e) {
            throw new UncheckedIOException("could not make a directory for the test PostgreSQL", e);
        }
        ScriptResult result = ScriptResult.run(START_TIMEOUT_SECONDS, "bash", script.toString(), "start", dir.toString());
        String url = result.stdout().strip();
        if (result.exitCode() != 0 || !JDBC_URL.matcher(url).matches()) {
            // Leave nothing running or on disk; the script's output says what went wrong.
            ScriptResult.run(STOP_TIMEOUT_SECONDS, "bash", script.toString(), "stop", dir.toString());
            throw new IllegalStateException("the test PostgreSQL did not start (" + script + " start "
                    + dir + " exited " + result.exitCode() + "); if PostgreSQL is missing, run"
                    + " KILN_SETUP_TESTS=1 scripts/setup.sh (./test.sh does). Its output:\n" + result.stdout() + result.stderr());
        }
        return new PostgresServer(script, dir, url);
    }

    private void stop() {
        ScriptResult result = ScriptResult.run(STOP_TIMEOUT_SECONDS, "bash", script.toString(), "stop", dir.toString());
        if (result.exitCode() != 0) {
            System.err.println("[PostgresServer] stopping " + dir + " failed:\n" + result.stderr());
        }
    }

    /** What a run of the script printed; stdout and stderr apart, since stdout is the URL. */
    private record ScriptResult(int exitCode, String stdout, String stderr) {

        static ScriptResult run(long timeoutSeconds, String... command) {
            Path stdoutFile = null;
            Path stderrFile = null;
            try {
                // Both to files: the wait below stays bounded even if a child of the script
                // (the server) kept a pipe open, and a full pipe cannot block the script.
                stdoutFile = Files.createTempFile("kiln-test-postgres-", ".stdout");
                stderrFile = Files.createTempFile("kiln-test-postgres-", ".stderr");
                Process process = new ProcessBuilder(command)
                        .redirectOutput(stdoutFile.toFile())
                        .redirectError(stderrFile.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .start();
                boolean exited = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
                if (!exited) {
                    process.destroyForcibly();
                }
                String stdout = Files.readString(stdoutFile);
                String stderr = Files.readString(stderrFile);
                return exited
                        ? new ScriptResult(process.exitValue(), stdout, stderr)
                        : new ScriptResult(-1, stdout, stderr + "\n(timed out after " + timeoutSeconds + " s)");
            } catch (IOException e) {
                return new ScriptResult(-1, "", "could not run " + String.join(" ", command) + ": " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new ScriptResult(-1, "", "interrupted while running " + String.join(" ", command));
            } finally {
                deleteQuietly(stdoutFile);
                deleteQuietly(stderrFile);
            }
        }

        private static void deleteQuietly(Path file) {
            if (file == null) {
                return;
            }
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a leftover file in the temp directory is harmless
            }
        }
    }
}
