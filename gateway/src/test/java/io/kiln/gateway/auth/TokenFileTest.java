package io.kiln.gateway.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenFileTest {

    @TempDir
    Path dir;

    @Test
    void madeOnceWithOwnerOnlyPermissionsThenReadBack() throws Exception {
        TokenFile first = TokenFile.loadOrCreate(dir.resolve("data"));
        assertTrue(first.created());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(first.path())));
        assertTrue(first.token().matches("[A-Za-z0-9_-]{43}"), first.token());
        try (var files = Files.list(dir.resolve("data"))) {
            assertEquals(1, files.count(), "no temp file left behind");
        }
        TokenFile again = TokenFile.loadOrCreate(dir.resolve("data"));
        assertFalse(again.created());
        assertEquals(first.token(), again.token());
        assertNotEquals(first.token(), TokenFile.loadOrCreate(dir.resolve("other")).token());
    }

    @Test
    void anEmptyTokenFileIsAnErrorNotASilentNewToken() throws Exception {
        Files.writeString(dir.resolve("token"), "\n");
        assertThrows(java.io.IOException.class, () -> TokenFile.loadOrCreate(dir));
    }

    @Test
    void bearerAuthAcceptsOnlyTheToken() {
        BearerAuth auth = new BearerAuth("s3cret-token-value");
        assertTrue(auth.accepts("Bearer s3cret-token-value"));
        assertTrue(auth.accepts("bearer s3cret-token-value"));
        assertFalse(auth.accepts(null));
        assertFalse(auth.accepts(""));
        assertFalse(auth.accepts("Bearer"));
        assertFalse(auth.accepts("Bearer s3cret-token-valu"));
        assertFalse(auth.accepts("Bearer s3cret-token-value2"));
        assertFalse(auth.accepts("Basic s3cret-token-value"));
        assertFalse(auth.accepts("s3cret-token-value"));
    }
}
