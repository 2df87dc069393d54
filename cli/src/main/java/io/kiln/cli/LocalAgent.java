package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.InvokeFrame;
import io.kiln.protocol.LoadFrame;
import io.kiln.protocol.LogFrame;
import io.kiln.protocol.ReadyFrame;
import io.kiln.protocol.ShutdownFrame;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code kiln invoke --local}: the agent jar ({@code kiln-agent.jar}, what runs inside every
 * microVM) as a plain child process of the CLI, spoken to over its stdin and stdout with the
 * frame protocol (docs/PROTOCOL.md), as the process engine does. No server, no VM, no snapshot:
 * the function runs on this host with the user's rights.
 *
 * <p>The function's output (LOG frames) is copied to stderr as it arrives. The agent exits when
 * its stdin closes, so it never outlives the CLI.
 */
final class LocalAgent implements AutoCloseable {

    /** The CLI's one call; the agent echoes it in the RESULT or ERROR. */
    static final long CALL_ID = 1;

    /** {@link #CALL_ID} as the platform shows call ids: 16 hex digits. */
    static String callId() {
        return String.format("%016x", CALL_ID);
    }

    private final Process process;
    private final InputStream from;
    private final OutputStream to;
    private final FrameCodec codec = new FrameCodec();
    private final PrintStream log;

    private LocalAgent(Process process, PrintStream log) {
        this.process = process;
        this.from = new BufferedInputStream(process.getInputStream());
        this.to = new BufferedOutputStream(process.getOutputStream());
        this.log = log;
    }

    /**
     * The agent jar: {@code KILN_AGENT_JAR}, else {@code function-runtime/agent/target/kiln-agent.jar}
     * in the Kiln tree this CLI was built in (its jar is {@code cli/target/kiln-cli.jar}, its
     * classes {@code cli/target/classes}).
     */
    static Path agentJar(CliEnv env) {
        String given = env.var("KILN_AGENT_JAR");
        Path jar;
        if (given != null) {
            jar = env.path(given);
        } else {
            Path own;
            try {
                own = Path.of(LocalAgent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            } catch (URISyntaxException | RuntimeException e) {
                throw new CliException(Exit.FAILED, "Cannot tell where this CLI runs from (" + e
                        + "); set KILN_AGENT_JAR to the agent jar.");
            }
            jar = own.getParent().resolve("../../function-runtime/agent/target/kiln-agent.jar").normalize();
        }
        if (!Files.isRegularFile(jar)) {
            throw new CliException(Exit.FAILED, "There is no agent jar at " + jar + ". Build it in the Kiln "
                    + "repository (./run.sh, or mvn -B -ntp -q -DskipTests -pl function-runtime/agent -am package), "
                    + "or set KILN_AGENT_JAR.");
        }
        return jar;
    }

    /** Starts the agent and waits for its READY. */
    static LocalAgent start(Path agentJar, PrintStream log) {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-XX:+UseSerialGC", "-jar", agentJar.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        LocalAgent agent;
        try {
            agent = new LocalAgent(pb.start(), log);
        } catch (IOException e) {
            throw new CliException(Exit.FAILED, "Cannot start the agent (" + java + " -jar " + agentJar + "): "
                    + e.getMessage());
        }
        Frame ready = agent.next();
        if (!(ready instanceof ReadyFrame)) {
            agent.close();
            throw new CliException(Exit.FAILED, "The agent did not start: it sent " + ready.type() + " first.");
        }
        return agent;
    }

    /**
     * LOAD and wait for init, as a deploy does.
     *
     * @throws CliException if init fails, with the agent's message
     */
    void load(byte[] jar, String handler, String function, Map<String, String> env) {
        ObjectNode meta = Json.object().put("handler", handler).put("function", function).put("version", "local");
        ObjectNode e = meta.putObject("env");
        env.forEach(e::put);
        send(new LoadFrame(meta.toString(), jar));
        Frame answer = next();
        if (answer instanceof ErrorFrame error) {
            JsonNode m = Json.parse(error.metadata().getBytes(StandardCharsets.UTF_8));
            throw new CliException(Exit.FAILED, function + " did not initialise (" + m.path("code").asText()
                    + (m.hasNonNull("phase") ? ", " + m.get("phase").asText() : "") + "): " + m.path("message").asText());
        }
        if (!(answer instanceof InitializedFrame)) {
            throw new CliException(Exit.FAILED, "The agent answered LOAD with " + answer.type());
        }
    }

    /** One call: its RESULT or ERROR frame. */
    Frame invoke(ObjectNode meta, byte[] body) {
        send(new InvokeFrame(CALL_ID, meta.toString(), body));
        return next();
    }

    private void send(Frame frame) {
        try {
            codec.write(to, frame);
            to.flush();
        } catch (IOException e) {
            throw new CliException(Exit.FAILED, "The agent stopped listening: " + e.getMessage());
        }
    }

    /** The next frame that is not a LOG; LOG frames are copied to the log stream on the way. */
    private Frame next() {
        while (true) {
            Frame f;
            try {
                f = codec.read(from);
            } catch (EOFException e) {
                throw new CliException(Exit.FAILED, "The agent exited" + exitStatus() + "; its output is above.");
            } catch (IOException e) {
                throw new CliException(Exit.FAILED, "Cannot read the agent's answer: " + e.getMessage());
            }
            if (f instanceof LogFrame l) {
                log.write(l.body(), 0, l.body().length);
                log.flush();
                continue;
            }
            return f;
        }
    }

    private String exitStatus() {
        try {
            return process.waitFor(5, TimeUnit.SECONDS) ? " with " + process.exitValue() : "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /** SHUTDOWN, then the process is waited for (5 s) or killed. */
    @Override
    public void close() {
        try {
            codec.write(to, new ShutdownFrame(""));
            to.close();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    /** The INVOKE {@code http} metadata for a request, as the gateway builds it (docs/API.md, "Sync trigger"). */
    static ObjectNode httpMeta(String method, String pathAndQuery, List<Map.Entry<String, String>> headers) {
        String p = pathAndQuery.isEmpty() ? "/" : pathAndQuery;
        int q = p.indexOf('?');
        String path = q < 0 ? p : p.substring(0, q);
        ObjectNode meta = Json.object();
        ObjectNode http = meta.putObject("http").put("method", method)
                .put("path", path.isEmpty() ? "/" : path).put("query", q < 0 ? "" : p.substring(q + 1));
        var list = http.putArray("headers");
        for (Map.Entry<String, String> h : headers) {
            list.addArray().add(h.getKey()).add(h.getValue());
        }
        return meta;
    }
}
