package io.kiln.agent.testing;

import io.kiln.agent.Agent;
import io.kiln.agent.AgentOptions;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The agent on a thread of this JVM, over two OS pipes: fast, for everything that needs no
 * process (stdout capture and exit codes do). Standard streams are not captured here.
 */
public final class InProcessAgent extends AgentSession {

    private final CompletableFuture<Integer> exit = new CompletableFuture<>();

    public InProcessAgent() {
        this(AgentOptions.host().withWorkDir(Fixtures.work().resolve("agents")
                .resolve(java.util.UUID.randomUUID().toString())));
    }

    public InProcessAgent(AgentOptions options) {
        try {
            Pipe toAgent = Pipe.open();
            Pipe fromAgent = Pipe.open();
            OutputStream agentOut = Channels.newOutputStream(fromAgent.sink());
            Agent agent = new Agent(options, Channels.newInputStream(toAgent.source()), agentOut);
            Thread t = new Thread(() -> {
                try {
                    exit.complete(agent.run());
                } catch (Throwable e) {
                    exit.completeExceptionally(e);
                } finally {
                    try {
                        agentOut.close(); // what a process exit does to its stdout
                    } catch (IOException ignored) {
                        // already closed
                    }
                }
            }, "in-process-agent");
            t.setDaemon(true);
            t.start();
            connect(Channels.newOutputStream(toAgent.sink()),
                    Channels.newInputStream(fromAgent.source()), "in-process");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public int exitCode() {
        try {
            return exit.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("in-process agent did not finish", e);
        }
    }

    @Override
    public void close() {
        if (!exit.isDone()) {
            closeInput();
            exitCode();
        }
    }
}
