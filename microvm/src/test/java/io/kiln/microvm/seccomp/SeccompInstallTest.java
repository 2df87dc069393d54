package io.kiln.microvm.seccomp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.process.ChildProcesses;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The VMM filter installed for real, in a child JVM: what a VMM needs works, the rest is denied. */
class SeccompInstallTest {
    @TempDir
    Path dir;

    @Test
    void aJvmUnderTheFilterRunsThreadsFilesSocketsAndMmapButCannotExecOrUseInet() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java.toString(), "-XX:-UsePerfData", "-cp",
                System.getProperty("java.class.path"), SeccompProbe.class.getName(), dir.toString()))
                .redirectErrorStream(true);
        Process p = ChildProcesses.start(pb);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        Map<String, String> r = new HashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                r.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        assertEquals("2", r.get("Seccomp"), out);
        assertEquals("1", r.get("NoNewPrivs"), out);
        assertEquals("8", r.get("threads"), out);
        assertEquals("ping", r.get("unix"), out);
        assertEquals("1122334455667788", r.get("mmap"), out);
        assertEquals("200", r.get("allocated"), out);
        assertTrue(r.get("exec").startsWith("denied IOException"), out);
        assertTrue(r.get("inet").startsWith("denied SocketException: Operation not permitted"), out);
        // The JDK probes AF_INET6 on first use; refused, it calls IPv6 unavailable.
        assertEquals("denied UnsupportedOperationException: IPv6 not available", r.get("inet6"), out);
        assertEquals("yes", r.get("end"), out);
    }
}
