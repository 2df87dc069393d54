package io.kiln.invoker.instance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.invoker.engine.Engine;
import io.kiln.invoker.engine.VmGroups;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.invoker.store.FunctionVersion;
import io.kiln.microvm.jail.VmGroup;
import io.kiln.microvm.vm.MicroVm;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.Frame;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.LoadFrame;
import io.kiln.protocol.RestoredFrame;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Makes instances ready, one conversation step at a time: boot to READY, restore and send
 * RESTORED with fresh entropy, LOAD a function and wait for its init. Blocking; the invoker
 * calls it from its VM threads. A step that fails destroys the instance it was working on.
 */
public final class InstanceLauncher {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Entropy per restore: 64 bytes, as docs/PROTOCOL.md recommends. */
    private static final int ENTROPY_BYTES = 64;
    /** How long a function's static init and priming may take. */
    static final Duration INIT_TIMEOUT = Duration.ofMinutes(2);

    private final Engine engine;
    private final VmGroups groups;
    private final ScheduledExecutorService timer;
    private final Executor teardown;
    private final Duration bootTimeout;
    private final Duration restoreTimeout;
    private final SecureRandom random = new SecureRandom();
    private final AtomicLong ids = new AtomicLong();

    /**
     * @param bootTimeout    boot to READY (a full JVM start; minutes under TCG)
     * @param restoreTimeout restore to the RESTORED answer, the after-restore hooks included
     * @param teardown       where instances destroy their VMs
     * @param groups         the VM group of each function (and of the base builds)
     */
    public InstanceLauncher(Engine engine, VmGroups groups, ScheduledExecutorService timer, Executor teardown,
                            Duration bootTimeout, Duration restoreTimeout) {
        this.engine = engine;
        this.groups = groups;
        this.timer = timer;
        this.teardown = teardown;
        this.bootTimeout = bootTimeout;
        this.restoreTimeout = restoreTimeout;
    }

    public Engine engine() {
        return engine;
    }

    public VmGroups groups() {
        return groups;
    }

    /** A ready instance of {@code template}: a restored clone, or a fresh agent that loaded the jar. */
    public Instance start(FunctionTemplate template, LogSink logs) {
        FunctionConfig config = template.version().config();
        VmGroup group = groups.function(template.version().name(), config);
        if (template.snapshot() != null) {
            return restore(group, template.snapshot(), false, logs);
        }
        Instance instance = boot(group, config.memoryMib(), false, logs);
        long loading = System.nanoTime();
        load(instance, template);
        StartPhases booted = instance.startPhases();
        instance.startPhases(new StartPhases(booted.engineUs(), booted.agentUs() + micros(loading), -1));
        return instance;
    }

    /** Boots the runtime as a VM of {@code group} and waits for READY. */
    public Instance boot(VmGroup group, int memoryMib, boolean snapshotable, LogSink logs) {
        long starting = System.nanoTime();
        Instance instance = create(logs, "boot_failed", "starting a " + engine.name() + " instance",
                console -> engine.boot(group, memoryMib, snapshotable, console));
        long running = System.nanoTime();
        answer(instance, instance.awaitReady(bootTimeout), "boot_failed", "booting the runtime");
        instance.startPhases(new StartPhases((running - starting) / 1000, micros(running), -1));
        return instance;
    }

    /** Restores a clone of {@code snapshot} as a VM of {@code group} and has its agent reseed (RESTORED). */
    public Instance restore(VmGroup group, Path snapshot, boolean snapshotable, LogSink logs) {
        long restoring = System.nanoTime();
        Instance instance = create(logs, "restore_failed", "restoring " + snapshot.getFileName() + " on "
                + engine.name(), console -> engine.restore(group, snapshot, snapshotable, console));
        byte[] entropy = new byte[ENTROPY_BYTES];
        random.nextBytes(entropy);
        String meta = "{\"epochMs\":" + System.currentTimeMillis() + ",\"restoreTimeoutMs\":"
                + restoreTimeout.toMillis() + "}";
        // The agent's own deadline for the hooks is restoreTimeout; the host allows a little more
        // so that the agent's restore_timeout, with its stack, arrives before the host gives up.
        long running = System.nanoTime();
        Frame ack = answer(instance, instance.send(new RestoredFrame(meta, entropy), restoreTimeout.plusSeconds(5)),
                "restore_failed", "restoring");
        instance.startPhases(new StartPhases((running - restoring) / 1000, micros(running), reportedUs(ack)));
        return instance;
    }

    private static long micros(long sinceNanos) {
        return (System.nanoTime() - sinceNanos) / 1000;
    }

    /** The agent's own time for its RESTORED work ({@code restoreUs} in the ack), or -1. */
    private static long reportedUs(Frame ack) {
        try {
            return JSON.readTree(((RestoredFrame) ack).metadata()).path("restoreUs").asLong(-1);
        } catch (IOException | RuntimeException e) {
            return -1; // a timing, not a contract: a malformed one only costs the benchmark a number
        }
    }

    private interface VmFactory {
        MicroVm create(ConsoleTail console) throws IOException;
    }

    /** A new instance around the VM {@code factory} makes; its failure becomes a {@link StartFailure}. */
    private Instance create(LogSink logs, String code, String what, VmFactory factory) {
        long id = ids.incrementAndGet();
        ConsoleTail console = new ConsoleTail(id, logs);
        try {
            return new Instance(id, factory.create(console), console, logs, timer, teardown);
        } catch (IOException | RuntimeException e) {
            throw new StartFailure(code, what + " failed: " + e.getMessage(), console.text(), e);
        }
    }

    /** Sends the function's jar and waits for its init; throws {@link StartFailure} with the init log. */
    public InitializedFrame load(Instance instance, FunctionTemplate template) {
        FunctionVersion v = template.version();
        byte[] jar;
        try {
            jar = Files.readAllBytes(template.jar());
        } catch (IOException e) {
            instance.destroyAndWait("the function jar could not be read");
            throw new StartFailure("load_failed", "reading " + template.jar() + " failed: " + e.getMessage(), "", e);
        }
        Frame answer = answer(instance, instance.send(new LoadFrame(loadMetadata(v, INIT_TIMEOUT), jar),
                INIT_TIMEOUT.plusSeconds(5)), "init_failed", "initialising " + v.id());
        return (InitializedFrame) answer;
    }

    static String loadMetadata(FunctionVersion v, Duration initTimeout) {
        FunctionConfig c = v.config();
        ObjectNode meta = JSON.createObjectNode()
                .put("handler", c.handler())
                .put("function", v.name())
                .put("version", Long.toString(v.version()))
                .put("timeoutMs", c.timeout().toMillis())
                .put("initTimeoutMs", initTimeout.toMillis())
                .put("memoryMb", c.memoryMib());
        ObjectNode env = meta.putObject("env");
        for (Map.Entry<String, String> e : c.env().entrySet()) {
            env.put(e.getKey(), e.getValue());
        }
        return meta.toString();
    }

    /**
     * Waits for an answer that must not be an ERROR. On any failure the instance is destroyed
     * and a {@link StartFailure} explains it with the agent's code and output.
     */
    private static Frame answer(Instance instance, CompletableFuture<Frame> pending,
                                String code, String what) {
        Frame frame;
        try {
            frame = pending.join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            instance.destroyAndWait(what + " failed");
            if (cause instanceof InstanceFailure f) {
                throw new StartFailure(code, what + " failed: " + f.getMessage(), f.consoleTail(), f);
            }
            throw new StartFailure(code, what + " failed: " + cause, "", cause);
        }
        if (frame instanceof ErrorFrame error) {
            instance.destroyAndWait(what + " failed");
            AgentError agent = AgentError.of(error);
            throw new StartFailure(agent.code(), what + " failed: " + agent.message(),
                    new String(error.body(), StandardCharsets.UTF_8), null);
        }
        return frame;
    }
}
