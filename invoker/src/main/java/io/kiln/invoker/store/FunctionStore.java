package io.kiln.invoker.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Named functions, each with immutable, numbered versions, kept in a data directory:
 * <pre>
 *   blobs/sha256/&lt;hex&gt;.jar          each jar once, by content
 *   functions/&lt;name&gt;/v&lt;N&gt;.json      one file per version; the highest is current
 * </pre>
 * Every file appears whole or not at all (written aside, synced, renamed), so a crash leaves
 * at worst a {@code .tmp-*} file, which the next {@link #open} deletes.
 *
 * <p>Reads are served from an in-memory index and never touch the disk; writes are serialised
 * on the store. One store per directory at a time: two processes writing the same directory
 * would each number versions from their own index.
 */
public final class FunctionStore {

    /** The agent's LOAD body cap: a larger jar could never be loaded into a guest. */
    public static final long MAX_JAR_BYTES = 256L << 20;

    /** Versions kept per function; older ones are forgotten at the next deploy. */
    public static final int MAX_VERSIONS = 10;

    private static final System.Logger LOG = System.getLogger(FunctionStore.class.getName());
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern VERSION_FILE = Pattern.compile("v([1-9][0-9]{0,18})\\.json");
    private static final Pattern BLOB_FILE = Pattern.compile("[0-9a-f]{64}\\.jar");
    private static final String TEMP_PREFIX = ".tmp-";
    private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};

    private final Path blobs;
    private final Path functions;
    /**
     * Name to versions, oldest first. Each list is immutable and replaced whole under the
     * store's lock, so readers need no lock and always see a complete history.
     */
    private final ConcurrentSkipListMap<String, List<FunctionVersion>> index;

    private FunctionStore(Path blobs, Path functions, Map<String, List<FunctionVersion>> index) {
        this.blobs = blobs;
        this.functions = functions;
        this.index = new ConcurrentSkipListMap<>(index);
    }

    /**
     * Opens the store in {@code dataDir}, creating its directories if needed. Leftover temp
     * files are deleted; a version file that cannot be read is skipped with a warning, so one
     * damaged file does not keep the platform from starting.
     */
    public static FunctionStore open(Path dataDir) throws IOException {
        Path blobs = Files.createDirectories(dataDir.resolve("blobs").resolve("sha256"));
        Path functions = Files.createDirectories(dataDir.resolve("functions"));
        deleteTemps(blobs);
        deleteTemps(functions);
        Map<String, List<FunctionVersion>> index = new TreeMap<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(functions, Files::isDirectory)) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
                if (!NAME.matcher(name).matches()) {
                    LOG.log(Level.WARNING, "function store: ignoring {0}: not a function name", dir);
                    continue;
                }
                deleteTemps(dir);
                List<FunctionVersion> versions = load(dir, name);
                if (!versions.isEmpty()) {
                    index.put(name, List.copyOf(versions));
                }
            }
        }
        return new FunctionStore(blobs, functions, index);
    }

    /** The readable version files of one function, oldest first. */
    private static List<FunctionVersion> load(Path dir, String name) throws IOException {
        TreeMap<Long, FunctionVersion> versions = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                Matcher m = VERSION_FILE.matcher(file.getFileName().toString());
                if (!m.matches()) {
                    LOG.log(Level.WARNING, "function store: ignoring {0}: not a version file", file);
                    continue;
                }
                try {
                    FunctionVersion v = VersionFile.read(Files.readAllBytes(file));
                    if (!v.name().equals(name) || v.version() != Long.parseLong(m.group(1))) {
                        throw new IllegalArgumentException("it holds " + v.id());
                    }
                    versions.put(v.version(), v);
                } catch (IOException | IllegalArgumentException e) {
                    LOG.log(Level.WARNING, "function store: skipping {0}: {1}", file, e.getMessage());
                }
            }
        }
        return new ArrayList<>(versions.values());
    }

    /**
     * Stores a new version of {@code name} (creating the function if it is new) and makes it
     * current: {@link #stage}, {@link #prepare} and {@link #commit} in one. The jar is read to
     * its end but not closed.
     *
     * @throws IllegalArgumentException if the name or the jar is refused; the message says why
     */
    public FunctionVersion deploy(String name, InputStream jar, FunctionConfig config)
            throws IOException {
        checkName(name);
        StagedJar staged = stage(jar);
        synchronized (this) {
            FunctionVersion v = prepare(name, staged, config);
            commit(v);
            return v;
        }
    }

    /** A jar stored by content but not yet part of any version. */
    public record StagedJar(String sha256, long size) {
    }

    /**
     * Stores {@code jar} by content. Until a version refers to it, it is garbage to
     * {@link #collectGarbage} unless passed there as in use.
     *
     * @throws IllegalArgumentException if the jar is refused; the message says why
     */
    public StagedJar stage(InputStream jar) throws IOException {
        Objects.requireNonNull(jar, "jar");
        // Outside the lock: a 256 MiB upload must not hold up every other deploy.
        Path temp = Files.createTempFile(blobs, TEMP_PREFIX, ".jar");
        try {
            StagedJar staged = receive(jar, temp);
            synchronized (this) {
                Path target = blobs.resolve(staged.sha256() + ".jar");
                if (!Files.exists(target)) {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                    syncDirectory(blobs);
                }
                return staged;
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * The version {@link #commit} would store next for {@code name}, not yet stored: a deploy
     * prepares it, builds the function's snapshot, and commits only if that worked.
     */
    public synchronized FunctionVersion prepare(String name, StagedJar jar, FunctionConfig config) {
        checkName(name);
        Objects.requireNonNull(config, "config");
        if (!Files.exists(blobs.resolve(jar.sha256() + ".jar"))) {
            throw new IllegalStateException("jar " + jar.sha256() + " is not staged");
        }
        List<FunctionVersion> old = index.getOrDefault(name, List.of());
        long number = old.isEmpty() ? 1 : old.get(old.size() - 1).version() + 1;
        return new FunctionVersion(name, number, jar.sha256(), jar.size(), config, Instant.now());
    }

    /**
     * Stores a prepared version and makes it current.
     *
     * @throws IllegalStateException if another version was stored since it was prepared
     */
    public synchronized void commit(FunctionVersion v) throws IOException {
        FunctionVersion expected = prepare(v.name(), new StagedJar(v.jarSha256(), v.jarSize()), v.config());
        if (expected.version() != v.version()) {
            throw new IllegalStateException("version " + v.id() + " is stale: the next version of " + v.name()
                    + " is " + expected.version());
        }
        addVersion(v);
    }

    /**
     * Stores a version committed elsewhere (another node of a cluster), with its own number,
     * and makes it current. Its jar must be stored already ({@link #stage}).
     *
     * @throws IllegalStateException if the jar is not stored, or the number is not above this
     *                               store's current version of the function
     */
    public synchronized void adopt(FunctionVersion v) throws IOException {
        if (!hasJar(v.jarSha256())) {
            throw new IllegalStateException("jar " + v.jarSha256() + " of " + v.id() + " is not staged");
        }
        Optional<FunctionVersion> current = current(v.name());
        if (current.isPresent() && current.get().version() >= v.version()) {
            throw new IllegalStateException("cannot adopt " + v.id() + ": this store has version "
                    + current.get().version() + " already");
        }
        addVersion(v);
    }

    /** Whether the store holds this jar (by its SHA-256). */
    public boolean hasJar(String sha256) {
        return BLOB_FILE.matcher(sha256 + ".jar").matches() && Files.exists(blobs.resolve(sha256 + ".jar"));
    }

    /** Copies the upload to {@code temp}, hashing, counting and checking it on the way. */
    private static StagedJar receive(InputStream jar, Path temp) throws IOException {
        MessageDigest sha256 = sha256();
        long size = 0;
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            OutputStream out = Channels.newOutputStream(ch);
            byte[] head = jar.readNBytes(ZIP_MAGIC.length);
            if (head.length == 0) {
                throw new IllegalArgumentException("not a jar: the upload is empty");
            }
            if (!Arrays.equals(head, ZIP_MAGIC)) {
                throw new IllegalArgumentException(
                        "not a jar: it does not start with a zip header (PK\\3\\4)");
            }
            byte[] buf = new byte[64 * 1024];
            System.arraycopy(head, 0, buf, 0, head.length);
            int n = head.length;
            do {
                size += n;
                if (size > MAX_JAR_BYTES) {
                    throw new IllegalArgumentException("jar is larger than the limit of "
                            + (MAX_JAR_BYTES >> 20) + " MiB (" + MAX_JAR_BYTES + " bytes)");
                }
                sha256.update(buf, 0, n);
                out.write(buf, 0, n);
            } while ((n = jar.read(buf)) >= 0);
            ch.force(true);
        }
        return new StagedJar(HexFormat.of().formatHex(sha256.digest()), size);
    }

    /** Writes the next version's file, then forgets versions beyond {@link #MAX_VERSIONS}. */
    private void addVersion(FunctionVersion v) throws IOException {
        String name = v.name();
        long number = v.version();
        List<FunctionVersion> old = index.getOrDefault(name, List.of());
        Path dir = Files.createDirectories(functions.resolve(name));
        writeAtomically(dir.resolve("v" + number + ".json"), VersionFile.write(v));

        List<FunctionVersion> all = new ArrayList<>(old);
        all.add(v);
        int drop = Math.max(0, all.size() - MAX_VERSIONS);
        index.put(name, List.copyOf(all.subList(drop, all.size())));
        for (FunctionVersion gone : all.subList(0, drop)) {
            try {
                Files.deleteIfExists(dir.resolve("v" + gone.version() + ".json"));
            } catch (IOException e) {
                // The deploy has happened; a file left behind comes back at the next open and
                // is dropped again at the next deploy.
                LOG.log(Level.WARNING, "function store: could not prune {0}: {1}", gone.id(), e);
            }
        }
    }

    /** The function's newest version. */
    public Optional<FunctionVersion> current(String name) {
        List<FunctionVersion> versions = index.get(name);
        return versions == null ? Optional.empty() : Optional.of(versions.get(versions.size() - 1));
    }

    /** One version, if the function has it (still). */
    public Optional<FunctionVersion> version(String name, long version) {
        return versions(name).stream().filter(v -> v.version() == version).findFirst();
    }

    /** The function's kept versions, oldest first; empty if there is no such function. */
    public List<FunctionVersion> versions(String name) {
        return index.getOrDefault(name, List.of());
    }

    /** The current version of every function, by name. */
    public List<FunctionVersion> list() {
        return index.values().stream().map(v -> v.get(v.size() - 1)).toList();
    }

    /**
     * Forgets the function and all its versions. Its jars stay until {@link #collectGarbage},
     * since a call in flight may still be reading one.
     *
     * @return false if there was no such function
     */
    public synchronized boolean delete(String name) throws IOException {
        if (!index.containsKey(name)) {
            return false;
        }
        // One rename makes the whole function disappear at once; deleting the files one by one
        // could be cut short and leave an older version to come back as current.
        Path doomed = functions.resolve(TEMP_PREFIX + name + "-" + UUID.randomUUID());
        Files.move(functions.resolve(name), doomed, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory(functions);
        index.remove(name);
        try {
            deleteTemp(doomed);
        } catch (IOException e) {
            // The function is gone already; the next open deletes what is left.
            LOG.log(Level.WARNING, "function store: could not clean up {0}: {1}", doomed, e);
        }
        return true;
    }

    /** Where a version's jar is. */
    public Path jar(FunctionVersion v) {
        return blobs.resolve(v.jarSha256() + ".jar");
    }

    /**
     * Deletes the jars that no kept version refers to and that are not in use.
     *
     * @param jarsInUse SHA-256s (as in {@link FunctionVersion#jarSha256}) of jars still needed,
     *                  e.g. by calls in flight or instances of forgotten versions
     * @return how many jars were deleted
     */
    public synchronized int collectGarbage(Set<String> jarsInUse) throws IOException {
        Set<String> keep = new HashSet<>(jarsInUse);
        index.values().forEach(versions -> versions.forEach(v -> keep.add(v.jarSha256())));
        int deleted = 0;
        // Only finished blobs: a .tmp-* file may be an upload in progress.
        try (DirectoryStream<Path> files = Files.newDirectoryStream(blobs,
                f -> BLOB_FILE.matcher(f.getFileName().toString()).matches())) {
            for (Path file : files) {
                String sha256 = file.getFileName().toString().replace(".jar", "");
                if (!keep.contains(sha256) && Files.deleteIfExists(file)) {
                    deleted++;
                }
            }
        }
        return deleted;
    }

    /**
     * @throws IllegalArgumentException unless {@code name} is 1 to 63 lowercase letters, digits
     *                                  and hyphens, neither starting nor ending with a hyphen
     */
    public static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("function name must be 1 to 63 lowercase letters,"
                    + " digits and hyphens, starting and ending with a letter or digit, got "
                    + (name == null ? "none" : "\"" + name + "\""));
        }
    }

    private static void writeAtomically(Path target, byte[] content) throws IOException {
        Path dir = target.getParent();
        // Owner-only (0600): a version file holds the function's environment, often secrets, and
        // jailed VMMs run as other users that must not read other functions' configuration.
        Path temp = Files.createTempFile(dir, TEMP_PREFIX, ".json", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rw-------")));
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                Channels.newOutputStream(ch).write(content);
                ch.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            syncDirectory(dir);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Makes a rename in {@code dir} durable: until the directory is synced, a crash may undo it. */
    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** Deletes {@code .tmp-*} entries in {@code dir}: files, or directories of files. */
    private static void deleteTemps(Path dir) throws IOException {
        try (DirectoryStream<Path> temps = Files.newDirectoryStream(dir, TEMP_PREFIX + "*")) {
            for (Path temp : temps) {
                deleteTemp(temp);
            }
        }
    }

    /** A temp file, or a deleted function's directory of version files. */
    private static void deleteTemp(Path temp) throws IOException {
        if (Files.isDirectory(temp)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(temp)) {
                for (Path f : files) {
                    Files.delete(f);
                }
            }
        }
        Files.delete(temp);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
