package io.kiln.microvm.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GuestImageTest {

    @TempDir
    Path dir;

    @Test
    void thePropertyWinsThenTheEnvironmentThenTheCache() {
        Map<String, String> env = Map.of(GuestImage.DIR_ENV, "/from/env", GuestImage.CACHE_ENV, "/cache");
        assertEquals(Path.of("/from/prop"), GuestImage.configuredDirectory("/from/prop", env));
        assertEquals(Path.of("/from/env"), GuestImage.configuredDirectory(null, env));
        assertEquals(Path.of("/from/env"), GuestImage.configuredDirectory(" ", env));
        assertEquals(Path.of("/cache/guest/current"), GuestImage.configuredDirectory(null, Map.of(GuestImage.CACHE_ENV, "/cache")));
        assertEquals(Path.of("/xdg/kiln/guest/current"), GuestImage.configuredDirectory(null, Map.of("XDG_CACHE_HOME", "/xdg")));
        assertEquals(Path.of(System.getProperty("user.home"), ".cache", "kiln", "guest", "current"),
                GuestImage.configuredDirectory(null, Map.of()));
    }

    @Test
    void followsTheCurrentLinkAndTakesItsIdFromTheTarget() throws IOException {
        Path image = Files.createDirectory(dir.resolve("0123abcd"));
        Files.write(image.resolve("vmlinux"), new byte[] {1});
        Files.write(image.resolve("initramfs.cpio"), new byte[] {2});
        Path current = Files.createSymbolicLink(dir.resolve("current"), image.getFileName());
        GuestImage located = GuestImage.at(current);
        assertEquals("0123abcd", located.id());
        assertEquals(image.toRealPath().resolve("vmlinux"), located.kernel());
    }

    @Test
    void anIncompleteImageIsRejectedWithTheFix() throws IOException {
        Path image = Files.createDirectory(dir.resolve("half"));
        Files.write(image.resolve("vmlinux"), new byte[] {1});
        GuestImageException e = assertThrows(GuestImageException.class, () -> GuestImage.at(image));
        assertEquals("guest image " + image.toRealPath() + " has no initramfs.cpio: rebuild it with microvm/guest/build.sh",
                e.getMessage());
    }
}
