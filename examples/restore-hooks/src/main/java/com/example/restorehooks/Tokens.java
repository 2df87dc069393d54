package com.example.restorehooks;

import io.kiln.function.Context;
import io.kiln.function.Handler;
import io.kiln.function.Kiln;
import io.kiln.function.Lifecycle;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Issues session tokens, and shows what a function restored from a snapshot must redo in each
 * clone: reseed its own random generator, reconnect, and draw anything meant to be unique.
 *
 * <p>Hook order: the reseed registered in the constructor runs before this handler's own
 * {@link #afterRestore()} (after-restore hooks run in registration order, and the platform
 * registers the handler after constructing it), so the instance id is drawn from a reseeded
 * generator.
 */
public final class Tokens implements Handler<String, Tokens.Issued>, Lifecycle {

    /** One call's answer; the counters show which hooks ran in this instance. */
    public record Issued(String user, String token, String instance, String connection,
                         int beforeSnapshot, int afterRestore, int calls) {
    }

    // Created at init, so it is in the snapshot: without a reseed, every clone would continue
    // from the same internal state and issue the same tokens. The platform reseeds the JDK's
    // default sources itself, but a DRBG instance keeps private state it cannot reach.
    private final SecureRandom random = SecureRandom.getInstance("DRBG");
    private Connection connection = Connection.open();
    private String instance = draw(8); // replaced after every restore: clones must not share it
    private int beforeSnapshot;
    private int afterRestore;
    private int calls;

    public Tokens() throws NoSuchAlgorithmException {
        Kiln.reseedOnRestore(random);
    }

    @Override
    public Issued handle(String user, Context ctx) {
        calls++;
        return issue(user == null || user.isBlank() ? "anonymous" : user.strip());
    }

    /** Priming: the hot path once, so the snapshot holds it loaded; then let go of the socket. */
    @Override
    public void beforeSnapshot() {
        issue("priming");
        connection.close();
        beforeSnapshot++;
    }

    /** In each clone, before its first call. */
    @Override
    public void afterRestore() {
        connection = Connection.open();
        instance = draw(8);
        afterRestore++;
    }

    private Issued issue(String user) {
        return new Issued(user, draw(16), instance, connection.ping(), beforeSnapshot,
                afterRestore, calls);
    }

    private String draw(int bytes) {
        byte[] b = new byte[bytes];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
