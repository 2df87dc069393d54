package io.kiln.gateway.auth;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * The management token, kept in {@code <dataDir>/token}: 32 random bytes, URL-safe base64
 * without padding, mode 0600. Made on first start; read on every later one.
 *
 * @param token   the token
 * @param path    where it is kept
 * @param created whether this start made it (the caller prints it once, then)
 */
public record TokenFile(String token, Path path, boolean created) {

    public static final String FILE = "token";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final System.Logger LOG = System.getLogger(TokenFile.class.getName());

    /** Reads the token, or makes and stores one if there is none. */
    public static TokenFile loadOrCreate(Path dataDir) throws IOException {
        Files.createDirectories(dataDir);
        Path path = dataDir.resolve(FILE);
        for (int attempt = 0; attempt < 2; attempt++) {
            if (Files.exists(path)) {
                return new TokenFile(read(path), path, false);
            }
            String token = generate();
            // Written in full to a private temp file, then linked in under the final name: the
            // token file appears whole and 0600 from its first instant, and a second gateway
            // starting at the same moment finds it (the link fails) instead of replacing it.
            Path temp = Files.createTempFile(dataDir, ".token-", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            try {
                try (OutputStream out = Files.newOutputStream(temp, StandardOpenOption.WRITE, StandardOpenOption.SYNC)) {
                    out.write((token + "\n").getBytes(StandardCharsets.US_ASCII));
                }
                Files.createLink(path, temp);
                return new TokenFile(token, path, true);
            } catch (FileAlreadyExistsException raced) {
                // Someone else made it first: read theirs.
            } finally {
                Files.deleteIfExists(temp);
            }
        }
        return new TokenFile(read(path), path, false);
    }

    /**
     * This file made to hold {@code shared} instead (a cluster's one token, which the first node
     * to start proposed): written whole to a private temp file and renamed over the old one.
     */
    public TokenFile replacedBy(String shared) throws IOException {
        if (shared.equals(token)) {
            return this;
        }
        Path temp = Files.createTempFile(path.getParent(), ".token-", ".tmp",
                PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        try {
            try (OutputStream out = Files.newOutputStream(temp, StandardOpenOption.WRITE, StandardOpenOption.SYNC)) {
                out.write((shared + "\n").getBytes(StandardCharsets.US_ASCII));
            }
            Files.move(temp, path, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
        return new TokenFile(shared, path, false);
    }

    private static String read(Path path) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(path);
        if (!OWNER_ONLY.containsAll(perms)) {
            LOG.log(System.Logger.Level.WARNING, path + " is readable by others (" + PosixFilePermissions.toString(perms)
                    + "); chmod 600 it");
        }
        String token = Files.readString(path, StandardCharsets.US_ASCII).strip();
        if (token.length() < 16) {
            throw new IOException(path + " does not hold a token (it is empty or too short); delete it to make a new one");
        }
        return token;
    }

    static String generate() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
