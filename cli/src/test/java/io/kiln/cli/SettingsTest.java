package io.kiln.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SettingsTest {

    @TempDir
    Path home;

    private TestCli cli() {
        return new TestCli(home);
    }

    private void configFile(String url, String token) throws Exception {
        Path f = home.resolve(".config/kiln/config");
        Files.createDirectories(f.getParent());
        StringBuilder sb = new StringBuilder("# a comment\n\n");
        if (url != null) {
            sb.append("url = ").append(url).append('\n');
        }
        if (token != null) {
            sb.append("token=").append(token).append('\n');
        }
        Files.writeString(f, sb);
    }

    private void dataToken(Path dir, String token) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("token"), token + "\n");
    }

    private Settings resolve(TestCli c, String url, String token) {
        return Settings.resolve(c.cliEnv(System.in, System.out, System.err), url, token);
    }

    @Test
    void defaultsWithNothingConfigured() {
        Settings s = resolve(cli(), null, null);
        assertEquals(URI.create("http://127.0.0.1:8080"), s.url());
        assertEquals("default", s.urlSource());
        assertNull(s.token());
    }

    @Test
    void flagsBeatEnvironmentBeatsFileBeatsDefault() throws Exception {
        configFile("http://file:1", "file-token");
        TestCli c = cli().env("KILN_URL", "http://env:2").env("KILN_TOKEN", "env-token");

        Settings flags = resolve(c, "http://flag:3/", "flag-token");
        assertEquals(URI.create("http://flag:3"), flags.url());
        assertEquals("--url", flags.urlSource());
        assertEquals("flag-token", flags.token());
        assertEquals("--token", flags.tokenSource());

        Settings env = resolve(c, null, null);
        assertEquals(URI.create("http://env:2"), env.url());
        assertEquals("env-token", env.token());
        assertEquals("KILN_TOKEN", env.tokenSource());

        Settings file = resolve(cli(), null, null);
        assertEquals(URI.create("http://file:1"), file.url());
        assertEquals("file-token", file.token());
        assertTrue(file.tokenSource().endsWith(".config/kiln/config"), file.tokenSource());
    }

    @Test
    void emptyEnvironmentVariablesCountAsUnset() throws Exception {
        configFile("http://file:1", "file-token");
        Settings s = resolve(cli().env("KILN_URL", "").env("KILN_TOKEN", ""), null, null);
        assertEquals(URI.create("http://file:1"), s.url());
        assertEquals("file-token", s.token());
    }

    @Test
    void theFilesTokenIsNeverSentToAnotherServer() throws Exception {
        configFile("https://prod.example.com", "prod-token");
        Settings other = resolve(cli(), "https://staging.example.com", null);
        assertNull(other.token());
        Settings same = resolve(cli(), "https://prod.example.com:443/", null);
        assertEquals("prod-token", same.token());
    }

    @Test
    void aFileWithATokenAndNoUrlAppliesToAnyServer() throws Exception {
        configFile(null, "only-token");
        assertEquals("only-token", resolve(cli(), "http://anywhere:9", null).token());
    }

    @Test
    void xdgConfigHomeMovesTheFile() throws Exception {
        Path xdg = home.resolve("xdg");
        Files.createDirectories(xdg.resolve("kiln"));
        Files.writeString(xdg.resolve("kiln/config"), "url=http://xdg:4\n");
        TestCli c = cli().env("XDG_CONFIG_HOME", xdg.toString());
        assertEquals(xdg.resolve("kiln/config"), ConfigFile.path(c.cliEnv(System.in, System.out, System.err)));
        assertEquals(URI.create("http://xdg:4"), resolve(c, null, null).url());
    }

    @Test
    void aLocalServerWithoutATokenUsesTheDataDirectorysToken() throws Exception {
        dataToken(home.resolve(".local/share/kiln"), "data-token-0123456789");
        Settings s = resolve(cli(), null, null);
        assertEquals("data-token-0123456789", s.token());
        assertEquals(home.resolve(".local/share/kiln/token").toString(), s.tokenSource());
        assertEquals("data-token-0123456789", resolve(cli(), "http://localhost:9000", null).token());
        assertEquals("data-token-0123456789", resolve(cli(), "http://[::1]:9000", null).token());
    }

    @Test
    void kilnDataPointsAtTheDataDirectory() throws Exception {
        Path data = home.resolve("elsewhere");
        dataToken(data, "elsewhere-token");
        dataToken(home.resolve(".local/share/kiln"), "default-token");
        assertEquals("elsewhere-token", resolve(cli().env("KILN_DATA", data.toString()), null, null).token());
    }

    @Test
    void aRemoteServerNeverGetsTheLocalToken() throws Exception {
        dataToken(home.resolve(".local/share/kiln"), "data-token");
        assertNull(resolve(cli(), "http://kiln.example.com:8080", null).token());
        assertNull(resolve(cli(), "http://10.1.2.3:8080", null).token());
    }

    @Test
    void aConfiguredTokenBeatsTheDataDirectorysToken() throws Exception {
        dataToken(home.resolve(".local/share/kiln"), "data-token");
        configFile(null, "file-token");
        assertEquals("file-token", resolve(cli(), null, null).token());
        assertEquals("env-token", resolve(cli().env("KILN_TOKEN", "env-token"), null, null).token());
    }

    @Test
    void aBadUrlIsAUsageError() {
        CliException e = assertThrows(CliException.class, () -> resolve(cli(), "127.0.0.1:8080", null));
        assertEquals(Exit.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("not an http:// or https:// URL"), e.getMessage());
        assertEquals(Exit.USAGE, assertThrows(CliException.class,
                () -> resolve(cli().env("KILN_URL", "ftp://x"), null, null)).exitCode());
    }

    @Test
    void localMeansLoopback() {
        assertTrue(Settings.isLocal(URI.create("http://127.0.0.1:8080")));
        assertTrue(Settings.isLocal(URI.create("http://127.3.4.5")));
        assertTrue(Settings.isLocal(URI.create("http://localhost")));
        assertTrue(Settings.isLocal(URI.create("http://[::1]:80")));
        assertFalse(Settings.isLocal(URI.create("http://192.168.1.2")));
        assertFalse(Settings.isLocal(URI.create("http://example.com")));
    }

    @Test
    void configFileIsWrittenPrivateAndReadBack() throws Exception {
        Path f = home.resolve(".config/kiln/config");
        ConfigFile.write(f, Map.of("url", "http://a:1"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertEquals(Map.of("url", "http://a:1"), ConfigFile.read(f));
        try (var s = Files.list(f.getParent())) {
            assertEquals(1, s.count(), "no temp file is left behind");
        }
    }
}
