package io.kiln.microvm.jail;

import io.kiln.microvm.process.ChildProcesses;
import io.kiln.microvm.testing.JailerBinary;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The jailer, for real, as root on this host: a jailed shell is looked at from outside through
 * {@code /proc/<pid>} and asked to touch what it should and should not reach.
 */
class JailerTest {

    private static final int UID = 899_990;
    private static final Path ROOT = Path.of("/run/kiln/jail-root-test");
    private static final String PARENT = "kiln-test";

    private final String name = "jailtest-" + ProcessHandle.current().pid();
    private Jailer jailer;
    private Path work;

    @BeforeEach
    void setUp() throws Exception {
        jailer = Jailer.at(JailerBinary.path(), ROOT, PARENT);
        work = Path.of(System.getProperty("kiln.test.work", "target/test-work"), "jailer").toAbsolutePath().normalize();
        Files.createDirectories(work);
        work = work.toRealPath();
        for (String dir : List.of("ro", "rw", "hidden")) {
            Path d = work.resolve(dir);
            Files.createDirectories(d);
            // World-writable: only the read-only mount may stop a write to ro/.
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxrwx"));
        }
        Files.writeString(work.resolve("hidden/secret"), "secret");
        Files.writeString(work.resolve("ro/file"), "readable");
    }

    @AfterEach
    void tearDown() throws IOException {
        jailer.cgroups().remove(name);
    }

    private JailSpec spec(long memory, long cpuMillis) {
        return new JailSpec(name, UID, UID, List.of(work.resolve("ro")), List.of(work.resolve("rw")), false, memory, cpuMillis);
    }

    /** Starts {@code script} jailed; returns once it printed "ready" (its earlier lines go to {@code lines}). */
    private Process startJailed(JailSpec spec, String script, List<String> lines) throws IOException {
        Process p = ChildProcesses.start(new ProcessBuilder(jailer.wrap(spec, List.of("/bin/sh", "-c", script)))
                .redirectError(ProcessBuilder.Redirect.INHERIT));
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        for (String line = out.readLine(); ; line = out.readLine()) {
            if (line == null) {
                throw new AssertionError("the jailed shell ended before 'ready' (exit " + waitExit(p) + "); it said " + lines);
            }
            if (line.equals("ready")) {
                return p;
            }
            lines.add(line);
        }
    }

    private static int waitExit(Process p) {
        try {
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the jailer did not exit in 30 s");
            return p.exitValue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** The jailed program: the jailer's one child. */
    private static ProcessHandle jailed(Process jailer) {
        List<ProcessHandle> children = jailer.toHandle().children().toList();
        assertEquals(1, children.size(), () -> "the jailer should have one child: " + children);
        return children.get(0);
    }

    private static String statusField(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field + ":")) {
                return line.substring(field.length() + 1).trim();
            }
        }
        throw new AssertionError("/proc/" + pid + "/status has no " + field);
    }

    @Test
    void theJailedProgramIsUnprivilegedInItsOwnNamespacesAndSeesOnlyWhatIsListed() throws Exception {
        List<String> said = new ArrayList<>();
        String ro = work.resolve("ro").toString();
        String rw = work.resolve("rw").toString();
        String script = "cat " + ro + "/file; echo;"
                + "(echo x > " + ro + "/new) 2>/dev/null && echo ro-written || echo ro-denied;"
                + "(echo x > " + rw + "/new) 2>/dev/null && echo rw-written || echo rw-denied;"
                + "(cat " + work.resolve("hidden/secret") + ") 2>/dev/null || echo hidden-absent;"
                + "echo pid=$$; echo ready; read x; exit 0";
        Process p = startJailed(spec(256L << 20, 500), script, said);
        try {
            assertEquals(List.of("readable", "ro-denied", "rw-written", "hidden-absent", "pid=1"), said);
            assertFalse(Files.exists(work.resolve("ro/new")), "the write to the read-only path reached the host");
            assertEquals("x", Files.readString(work.resolve("rw/new")).trim());
            assertEquals(Integer.toString(UID), Files.getAttribute(work.resolve("rw/new"), "unix:uid").toString());

            long pid = jailed(p).pid();
            assertEquals(UID + "\t" + UID + "\t" + UID + "\t" + UID, statusField(pid, "Uid"));
            assertEquals(UID + "\t" + UID + "\t" + UID + "\t" + UID, statusField(pid, "Gid"));
            assertEquals("", statusField(pid, "Groups"));
            assertEquals("1", statusField(pid, "NoNewPrivs"));
            assertEquals("0000000000000000", statusField(pid, "CapEff"));
            assertEquals("0000000000000000", statusField(pid, "CapPrm"));
            assertEquals("0000000000000000", statusField(pid, "CapBnd"));
            for (String ns : List.of("mnt", "net", "pid", "ipc", "uts")) {
                assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns", ns)),
                        Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", ns)), ns + " namespace shared with the host");
            }
            Path itsRoot = Path.of("/proc", Long.toString(pid), "root");
            assertTrue(Files.isDirectory(itsRoot.resolve("usr/bin")), "/usr is not visible: the absence checks below would prove nothing");
            assertTrue(Files.isRegularFile(itsRoot.resolve(ro.substring(1)).resolve("file")));
            assertFalse(Files.exists(itsRoot.resolve(work.resolve("hidden").toString().substring(1))), "an unlisted path is visible");
            assertFalse(Files.exists(itsRoot.resolve("root")), "/root is visible");
            assertFalse(Files.exists(itsRoot.resolve("etc")), "/etc is visible");

            OptionalLong limit = jailer.cgroups().memoryLimitOf(pid);
            assertEquals(OptionalLong.of(256L << 20), limit);
            assertEquals(jailer.cgroups().dirs(name).get(0), jailer.cgroups().cgroupOf(pid, jailer.cgroups().version() == Cgroups.Version.V2 ? "" : "memory"));
            if (jailer.cgroups().cpuLimits()) {
                assertEquals("50000 100000", cpuQuota(jailer.cgroups().dirs(name)));
            }
        } finally {
            p.getOutputStream().close();
        }
        assertEquals(0, waitExit(p), "the jailer passes on the program's exit status");
    }

    private String cpuQuota(List<Path> dirs) throws IOException {
        if (jailer.cgroups().version() == Cgroups.Version.V2) {
            return Files.readString(dirs.get(0).resolve("cpu.max")).trim();
        }
        return Files.readString(dirs.get(1).resolve("cpu.cfs_quota_us")).trim() + " "
                + Files.readString(dirs.get(1).resolve("cpu.cfs_period_us")).trim();
    }

    @Test
    void theJailedProgramDiesWhenTheJailerIsKilled() throws Exception {
        Process p = startJailed(spec(0, 0), "echo ready; read x", new ArrayList<>());
        ProcessHandle child = jailed(p);
        p.destroyForcibly(); // SIGKILL: the jailer cannot forward it, the child's PDEATHSIG fires
        child.onExit().get(30, TimeUnit.SECONDS);
        assertFalse(child.isAlive());
    }

    @Test
    void sigtermReachesTheProgramAndItsExitStatusComesBack() throws Exception {
        // pid 1 of a namespace only gets the signals it handles: the trap is such a handler.
        Process p = startJailed(spec(0, 0), "trap 'echo terminated; exit 7' TERM; echo ready; while :; do read x; done",
                new ArrayList<>());
        p.toHandle().destroy(); // SIGTERM to the jailer, which forwards it (Process.destroy would also close our pipes)
        String rest = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(7, waitExit(p));
        assertEquals("terminated\n", rest);
    }

    @Test
    void aJvmRunsJailedWithWhatJavaReadOnlyAdds() throws Exception {
        // SecureRandom loads the security providers from conf/security/java.security, a link
        // into /etc on Debian: the case a jail without javaReadOnly() breaks.
        Path source = work.resolve("ro/Probe.java");
        Files.writeString(source, "public class Probe { public static void main(String[] a) {"
                + " new java.security.SecureRandom().nextInt(); System.out.println(\"jvm-ok \" + System.getProperty(\"user.dir\")); } }");
        List<Path> readOnly = new ArrayList<>(Jailer.javaReadOnly());
        readOnly.add(work.resolve("ro"));
        JailSpec spec = new JailSpec(name, UID, UID, readOnly, List.of(), false, 512L << 20, 0);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = ChildProcesses.start(new ProcessBuilder(jailer.wrap(spec,
                List.of(java, "-Xshare:auto", "-XX:-UsePerfData", source.toString()))).redirectErrorStream(true));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, waitExit(p), out);
        assertEquals("jvm-ok /\n", out);
    }

    @Test
    void aBadOptionFailsWithOneClearLineBeforeAnythingRuns() throws Exception {
        assertEquals(List.of("kiln-jailer: usage: unknown option '--bogus'"),
                runJailer(List.of("--bogus", "--", "/bin/true")));
        assertEquals(List.of("kiln-jailer: usage: --ro /lib is not canonical (it resolves to /usr/lib): pass the resolved path"),
                runJailer(List.of("--root", ROOT.toString(), "--uid", "5", "--gid", "5", "--ro", "/lib", "--", "/bin/true")));
        assertEquals(List.of("kiln-jailer: usage: --uid and --gid must not be 0 (root)"),
                runJailer(List.of("--root", ROOT.toString(), "--uid", "0", "--gid", "5", "--", "/bin/true")));
        assertEquals(List.of("kiln-jailer: exec: /no/such/program: No such file or directory"),
                runJailer(List.of("--root", ROOT.toString(), "--uid", "5", "--gid", "5", "--", "/no/such/program")));
    }

    /** Runs the jailer with {@code args}; asserts it failed with 125; returns what it said. */
    private List<String> runJailer(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(jailer.binary().toString()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(125, waitExit(p), out);
        return out.lines().toList();
    }

    @Test
    void aJailSpecRefusesRootAndNamesThatAreNoCgroupName() {
        assertEquals("jail uid and gid must be positive (not root), got 0:5",
                assertThrows(IllegalArgumentException.class,
                        () -> new JailSpec("f", 0, 5, List.of(), List.of(), false, 0, 0)).getMessage());
        assertEquals("jail name must match [a-z0-9][a-z0-9-_.]{0,99} (it names a cgroup), got '../x'",
                assertThrows(IllegalArgumentException.class,
                        () -> new JailSpec("../x", 5, 5, List.of(), List.of(), false, 0, 0)).getMessage());
        assertEquals("jail paths must be absolute, got rel",
                assertThrows(IllegalArgumentException.class,
                        () -> new JailSpec("f", 5, 5, List.of(Path.of("rel")), List.of(), false, 0, 0)).getMessage());
    }

    @Test
    void aMissingJailerIsAReasonNotACrash() {
        Path nowhere = Path.of("/no/such/kiln-jailer");
        assertEquals("the jailer /no/such/kiln-jailer is not an executable file",
                assertThrows(JailUnavailableException.class, () -> Jailer.at(nowhere, ROOT, PARENT)).getMessage());
    }

    @Test
    void aGroupsMemoryLimitRisesAtOnceButFallsOnlyOnceItIsEmpty() throws Exception {
        Process p = startJailed(spec(256L << 20, 0), "echo ready; read x; exit 0", new ArrayList<>());
        long pid = jailed(p).pid();
        jailer.cgroups().create(name, 128L << 20, 0); // a redeploy with less memory, instances still running
        assertEquals(OptionalLong.of(256L << 20), jailer.cgroups().memoryLimitOf(pid));
        jailer.cgroups().create(name, 512L << 20, 0);
        assertEquals(OptionalLong.of(512L << 20), jailer.cgroups().memoryLimitOf(pid));
        p.getOutputStream().close();
        assertEquals(0, waitExit(p));
        jailer.cgroups().create(name, 128L << 20, 0);
        Path dir = jailer.cgroups().dirs(name).get(0);
        String file = jailer.cgroups().version() == Cgroups.Version.V2 ? "memory.max" : "memory.limit_in_bytes";
        assertEquals(Long.toString(128L << 20), Files.readString(dir.resolve(file)).trim());
    }

    @Test
    void removingAGroupLeavesNoCgroupBehind() throws Exception {
        List<Path> dirs = jailer.cgroups().create(name, 64L << 20, 1000);
        assertTrue(dirs.stream().allMatch(Files::isDirectory));
        assertTrue(jailer.cgroups().remove(name));
        assertTrue(dirs.stream().noneMatch(Files::exists));
        assertFalse(jailer.cgroups().remove(name));
    }
}
