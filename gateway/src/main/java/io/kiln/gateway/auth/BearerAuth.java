package io.kiln.gateway.auth;

import io.kiln.gateway.http.ApiError;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Checks {@code Authorization: Bearer <token>}. Both sides are hashed before the
 * constant-time {@link MessageDigest#isEqual} so that not even the length of a wrong token
 * changes the time the comparison takes. A missing and a wrong token get the same answer.
 */
public final class BearerAuth {

    public static final ApiError UNAUTHORIZED = new ApiError(401, "unauthorized",
            "a valid management token is required: Authorization: Bearer <token>");

    private final byte[] expected;

    public BearerAuth(String token) {
        this.expected = sha256(token);
    }

    /** Whether the Authorization header carries the token. */
    public boolean accepts(String authorization) {
        if (authorization == null || authorization.length() < 7
                || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return matches(authorization.substring(7).strip());
    }

    /** Whether {@code token} is the token (a bare value, not a header), in the same constant time. */
    public boolean matches(String token) {
        return token != null && MessageDigest.isEqual(expected, sha256(token));
    }

    /** Throws {@link #UNAUTHORIZED} unless {@link #accepts}. */
    public void require(String authorization) {
        if (!accepts(authorization)) {
            throw UNAUTHORIZED;
        }
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
