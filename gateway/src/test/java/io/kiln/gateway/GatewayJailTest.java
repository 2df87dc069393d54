package io.kiln.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kiln.gateway.auth.TokenFile;
import io.kiln.gateway.testing.TestServer;
import io.kiln.invoker.engine.VmGroups;
import io.kiln.microvm.jail.Cgroups;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A deployed function's QEMU on the real engine (TCG here), jailed: looked at from outside
 * through {@code /proc}, and made to look for the node's secrets as its own uid, in its own
 * mount namespace and in the host's.
 */
class GatewayJailTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** maxConcurrency 2, minInstances 1, maxInstances 2: 2 VMs at once, plus 1 for a deploy's snapshot. */
    private static final String LIMITS = "maxConcurrency=2&minInstances=1&maxInstances=2";
    private final TestServer server = TestServer.vm();

    @Test
    void aFunctionsQemuRunsUnprivilegedInItsJailAndCannotReachTheNodesSecrets() throws Exception {
        JsonNode health = JSON.readTree(server.anonymous().get("/healthz").asString());
        assertTrue(health.get("jail").get("enabled").asBoolean(),
                () -> "jails are off here (run as root with -Dkiln.jailer, as ./test.sh does): " + health.get("jail"));
        server.ensure("jailed", "com.example.Greeter", LIMITS);
        server.ensure("jailed-other", "com.example.Greeter", "");
        assertCallAnswers("jailed");

        int uid = uidOf("jailed");
        assertNotEquals(uidOf("jailed-other"), uid, "two functions share a uid");
        long pid = qemuOf(uid);
        assertEquals(uid + "\t" + uid + "\t" + uid + "\t" + uid, status(pid, "Uid"));
        assertEquals("2", status(pid, "Seccomp"), "QEMU's seccomp sandbox is off");
        assertEquals("1", status(pid, "NoNewPrivs"));
        assertEquals("0000000000000000", status(pid, "CapEff"));
        for (String ns : List.of("mnt", "net", "pid", "ipc")) {
            assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns", ns)),
                    Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", ns)), ns + " namespace shared with the host");
        }

        Path token = server.dataDir().resolve(TokenFile.FILE).toRealPath();
        Path otherSnapshots = functionSnapshots("jailed-other");
        Path otherMemory;
        try (Stream<Path> files = Files.walk(otherSnapshots)) {
            otherMemory = files.filter(p -> p.getFileName().toString().equals("memory")).findFirst().orElseThrow();
        }
        Path root = Path.of("/proc", Long.toString(pid), "root");
        assertTrue(Files.isDirectory(root.resolve("usr/bin")), "the check below would prove nothing");
        for (Path secret : List.of(token, otherSnapshots)) {
            assertTrue(Files.exists(secret));
            assertFalse(Files.exists(root.resolve(secret.toString().substring(1))), secret + " is visible in QEMU's jail");
        }
        // Of the data directory, the jail holds only the path to the one file QEMU maps: its own snapshot's memory.
        try (Stream<Path> seen = Files.list(root.resolve(server.dataDir().toRealPath().toString().substring(1)))) {
            assertEquals(List.of("snapshots"), seen.map(p -> p.getFileName().toString()).toList());
        }
        // As QEMU's uid, in its mount and network namespaces: the files are not there.
        for (Path secret : List.of(token, otherMemory)) {
            Result r = run("nsenter", "-t", Long.toString(pid), "-m", "-n", "-S", Integer.toString(uid),
                    "-G", Integer.toString(uid), "--", "/usr/bin/cat", secret.toString());
            assertEquals(new Result(1, "/usr/bin/cat: " + secret + ": No such file or directory\n"), r);
        }
        // As QEMU's uid in the host's namespaces (a jail escape that kept the uid): not readable.
        for (Path secret : List.of(token, otherMemory)) {
            Result r = run("setpriv", "--reuid", Integer.toString(uid), "--regid", Integer.toString(uid),
                    "--clear-groups", "--", "/usr/bin/cat", secret.toString());
            assertEquals(new Result(1, "/usr/bin/cat: " + secret + ": Permission denied\n"), r);
        }

        Cgroups cgroups = server.gateway().invoker().jail().jailer().orElseThrow().cgroups();
        int slots = 2 + 1;
        long perVm = TestServer.MEMORY_MIB + server.gateway().invoker().engine().engine().vmOverheadMib();
        assertEquals(OptionalLong.of(slots * perVm << 20), cgroups.memoryLimitOf(pid));
        assertEquals(cgroups.dirs("jailed").get(0),
                cgroups.cgroupOf(pid, cgroups.version() == Cgroups.Version.V2 ? "" : "memory"));
        assertCallAnswers("jailed");
    }

    private void assertCallAnswers(String function) {
        Response call = server.given().contentType("application/json").body("{\"name\":\"Ada\",\"age\":36}")
                .post("/function/" + function);
        assertEquals(200, call.statusCode(), call::asString);
        assertEquals("{\"message\":\"Hello, Ada\",\"adult\":true}", call.asString());
    }

    /** The uid the node gave {@code function}'s group ({@code <data>/jail/uids/<uid>} names it). */
    private int uidOf(String function) throws IOException {
        try (Stream<Path> files = Files.list(server.dataDir().resolve("jail").resolve("uids"))) {
            for (Path f : files.toList()) {
                if (Files.readString(f).strip().equals(function)) {
                    int uid = Integer.parseInt(f.getFileName().toString());
                    assertTrue(uid >= VmGroups.FIRST_UID, () -> "uid " + uid);
                    return uid;
                }
            }
        }
        throw new AssertionError("no uid for " + function);
    }

    /** A QEMU of this JVM's running as {@code uid}: an instance of that function. */
    private static long qemuOf(int uid) throws IOException {
        for (ProcessHandle p : ProcessHandle.current().descendants().toList()) {
            try {
                String cmdline = Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline"));
                if (cmdline.startsWith("/usr/bin/qemu-system-x86_64\0") && status(p.pid(), "Uid").startsWith(uid + "\t")) {
                    return p.pid();
                }
            } catch (IOException e) {
                // gone meanwhile
            }
        }
        throw new AssertionError("no QEMU runs as uid " + uid + " (the function keeps one instance warm)");
    }

    private Path functionSnapshots(String function) throws IOException {
        try (Stream<Path> keys = Files.list(server.dataDir().resolve("snapshots"))) {
            Path key = keys.findFirst().orElseThrow();
            return key.resolve("functions").resolve(function).toRealPath();
        }
    }

    private static String status(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field + ":")) {
                return line.substring(field.length() + 1).trim();
            }
        }
        throw new AssertionError("/proc/" + pid + "/status has no " + field);
    }

    private record Result(int exit, String output) {
    }

    private static Result run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), () -> String.join(" ", command) + " hung");
        return new Result(p.exitValue(), out);
    }
}
