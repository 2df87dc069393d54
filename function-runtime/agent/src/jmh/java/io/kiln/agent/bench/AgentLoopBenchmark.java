package io.kiln.agent.bench;

import io.kiln.agent.Agent;
import io.kiln.agent.AgentOptions;
import io.kiln.agent.testing.Fixtures;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.InvokeFrame;
import io.kiln.protocol.LoadFrame;
import io.kiln.protocol.ReadyFrame;
import io.kiln.protocol.ResultFrame;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * One call through the whole agent loop, in-process: the benchmark thread is the host, writing
 * an INVOKE into an OS pipe and reading the RESULT from another; in between, the agent's reader
 * thread, dispatcher, function thread, binding and the frame codec both ways. What it leaves
 * out, compared with a guest: the virtio-console and the VM exits behind it.
 *
 * <ul>
 *   <li>{@code hello}: a Kiln handler binding a JSON record in and out ({@code Greeter});</li>
 *   <li>{@code echo-1KiB}, {@code echo-1MiB}: raw bytes through a {@code Function<byte[],byte[]>}.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class AgentLoopBenchmark {

    @Param({"hello", "echo-1KiB", "echo-1MiB"})
    public String call;

    private final FrameCodec codec = new FrameCodec();
    private OutputStream toAgent;
    private InputStream fromAgent;
    private OutputStream agentSideOut;
    private Thread agentThread;
    private byte[] body;
    private long id;

    @Setup(Level.Trial)
    public void start() throws IOException {
        Pipe in = Pipe.open();
        Pipe out = Pipe.open();
        agentSideOut = Channels.newOutputStream(out.sink());
        Agent agent = new Agent(AgentOptions.host().withWorkDir(
                Fixtures.work().resolve("bench").resolve(UUID.randomUUID().toString())),
                Channels.newInputStream(in.source()), agentSideOut);
        agentThread = new Thread(agent::run, "agent");
        agentThread.setDaemon(true);
        agentThread.start();
        toAgent = Channels.newOutputStream(in.sink());
        fromAgent = new BufferedInputStream(Channels.newInputStream(out.source()), 1 << 16);

        expect(ReadyFrame.class);
        String handler = call.equals("hello") ? "com.example.Greeter" : "com.example.Echo";
        codec.write(toAgent, new LoadFrame("{\"handler\":\"" + handler + "\"}", Fixtures.functions()));
        expect(InitializedFrame.class);
        body = switch (call) {
            case "hello" -> "{\"name\":\"Ada\",\"age\":36}".getBytes(StandardCharsets.UTF_8);
            case "echo-1KiB" -> new byte[1024];
            case "echo-1MiB" -> new byte[1024 * 1024];
            default -> throw new IllegalArgumentException(call);
        };
        if (call.equals("hello")) {
            // Greeter prints a line per call; in-process that goes to this JVM's stdout.
            System.setOut(new java.io.PrintStream(OutputStream.nullOutputStream()));
        }
    }

    @Benchmark
    public Frame roundTrip() throws IOException {
        codec.write(toAgent, new InvokeFrame(++id, "", body));
        while (true) {
            Frame f = codec.read(fromAgent);
            if (f instanceof ResultFrame) {
                return f;
            }
            if (!(f instanceof io.kiln.protocol.LogFrame)) {
                throw new IllegalStateException("unexpected " + f);
            }
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException {
        toAgent.close(); // end of stream: the agent exits cleanly
    }

    private void expect(Class<? extends Frame> type) throws IOException {
        Frame f = codec.read(fromAgent);
        if (!type.isInstance(f)) {
            throw new IllegalStateException("expected " + type.getSimpleName() + ", got " + f);
        }
    }
}
