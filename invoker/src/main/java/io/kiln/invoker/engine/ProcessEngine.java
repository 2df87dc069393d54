package io.kiln.invoker.engine;

import io.kiln.microvm.jail.VmGroup;
import io.kiln.microvm.vm.MicroVm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs the real agent as a host child process over pipes: no VM, no snapshot, no isolation.
 * Every instance starts a JVM and loads the function afresh. It exists for fast tests of the
 * pool and for a local development loop, and is only ever chosen explicitly.
 */
public final class ProcessEngine implements Engine {

    private final Path agentJar;
    private final Path workRoot;

    /**
     * @param agentJar the shaded agent jar ({@code function-runtime/agent/target/kiln-agent.jar})
     * @param workRoot where agents unpack function jars; each agent gets its own directory
     */
    public ProcessEngine(Path agentJar, Path workRoot) {
        if (!Files.isRegularFile(agentJar)) {
            throw new IllegalArgumentException("the process engine needs the agent jar, and " + agentJar
                    + " is not a file (build it with: mvn -pl function-runtime/agent -am package)");
        }
        this.agentJar = agentJar;
        this.workRoot = workRoot;
    }

    @Override
    public String name() {
        return "process";
    }

    @Override
    public boolean isolated() {
        return false;
    }

    @Override
    public boolean jailed() {
        return false;
    }

    @Override
    public boolean snapshots() {
        return false;
    }

    @Override
    public String snapshotKey() {
        return name();
    }

    @Override
    public int minimumMemoryMib() {
        return 64;
    }

    @Override
    public int vmOverheadMib() {
        return 0; // no VMM: the agent's JVM is the instance, and its memory is the instance's
    }

    /** The agent runs as a plain child process: the group is not used (the process engine isolates nothing). */
    @Override
    public MicroVm boot(VmGroup group, int memoryMib, boolean snapshotable, Consumer<String> console) throws IOException {
        if (snapshotable) {
            throw new UnsupportedOperationException("the process engine cannot take snapshots");
        }
        Files.createDirectories(workRoot);
        Path work = Files.createTempDirectory(workRoot, "agent-");
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // The flags the guest uses, so a function behaves alike on both.
                "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                "-Xmx" + Math.max(32, memoryMib * 3 / 4) + "m",
                "-Djava.awt.headless=true",
                "-Djava.io.tmpdir=" + work,
                "-jar", agentJar.toString(),
                "--work-dir", work.resolve("function").toString());
        return AgentProcessVm.start(command, work, console);
    }

    @Override
    public MicroVm restore(VmGroup group, Path directory, boolean snapshotable, Consumer<String> console) {
        throw new UnsupportedOperationException("the process engine has no snapshots to restore");
    }

    @Override
    public String toString() {
        return "process (host child processes, NOT isolated; agent " + agentJar + ")";
    }
}
