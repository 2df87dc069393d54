package io.kiln.microvm.group;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.microvm.console.ConsoleLog;
import io.kiln.microvm.qemu.ChannelStreams;
import io.kiln.microvm.vm.MicroVm;
import io.kiln.microvm.vm.VmExit;
import io.kiln.microvm.vm.VmState;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A VM that runs in a VMM host process ({@link VmHost}), driven over its control connection;
 * its function channel is a second, raw connection. The host process is the less trusted side:
 * every line it sends is bounded ({@link Lines}), parsed into known fields or rejected, and
 * console text is sanitised again here. A broken connection (the host process died) ends the VM:
 * its exit completes with {@link VmExit.Reason#ERROR} and a reason that says so.
 */
public final class RemoteMicroVm implements MicroVm {
    private static final System.Logger LOG = System.getLogger(RemoteMicroVm.class.getName());
    /** A lifecycle step the host process does not answer in this long is a hung host process. */
    static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(5);
    private final String id;
    private final VmHost host;
    private final SocketChannel control;
    private final OutputStream controlOut;
    private final SocketChannel data;
    private final InputStream fromGuest;
    private final OutputStream toGuest;
    private final ConsoleLog console;
    private final CompletableFuture<VmExit> exit = new CompletableFuture<>();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();
    private final AtomicBoolean destroyed = new AtomicBoolean();
    private volatile VmState state;

    private RemoteMicroVm(String id, VmHost host, SocketChannel control, SocketChannel data, ConsoleLog console,
                          VmState initial) {
        this.id = id;
        this.host = host;
        this.control = control;
        this.controlOut = ChannelStreams.output(control);
        this.data = data;
        this.fromGuest = ChannelStreams.input(data);
        this.toGuest = ChannelStreams.output(data);
        this.console = console;
        this.state = initial;
    }

    /** Sends {@code hello} (a boot or restore) on a new control connection and attaches the channel. */
    static RemoteMicroVm open(VmHost host, ObjectNode hello, VmState initial, Consumer<String> consoleSink)
            throws IOException {
        SocketChannel control = host.connect();
        SocketChannel data = null;
        try {
            OutputStream out = ChannelStreams.output(control);
            InputStream in = new BufferedInputStream(ChannelStreams.input(control));
            Messages.write(out, hello);
            JsonNode created = readCreated(control, in, host);
            if (!"created".equals(created.path("type").asText())) {
                throw new IOException("the VMM host process of " + host.group() + " could not make the VM: "
                        + Messages.clip(created.path("message").asText("(no reason given)")));
            }
            String id = Messages.text(created, "vm");
            if (!Messages.VM_ID.matcher(id).matches()) {
                throw new ProtocolException("a VM id that is not one: " + Messages.clip(id));
            }
            data = host.connect();
            Messages.write(ChannelStreams.output(data), Messages.object().put("op", "attach").put("vm", id));
            ConsoleLog console = new ConsoleLog(consoleSink, 1);
            RemoteMicroVm vm = new RemoteMicroVm(id, host, control, data, console, initial);
            Thread reader = new Thread(() -> vm.readEvents(in), "vmm-client-" + host.group() + "-" + id);
            reader.setDaemon(true);
            reader.start();
            return vm;
        } catch (IOException | RuntimeException e) {
            control.close();
            if (data != null) {
                data.close();
            }
            throw e;
        }
    }

    /**
     * The answer to a boot or restore, waited for at most {@link #COMMAND_TIMEOUT}: a host
     * process that never answers must fail the start, not hang it. On timeout the connection is
     * closed, which ends the read.
     */
    private static JsonNode readCreated(SocketChannel control, InputStream in, VmHost host) throws IOException {
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                answer.complete(readMessage(in, host));
            } catch (IOException | RuntimeException e) {
                answer.completeExceptionally(e);
            }
        }, "vmm-client-create-" + host.group());
        reader.setDaemon(true);
        reader.start();
        try {
            return answer.get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            control.close();
            throw new IOException("the VMM host process of " + host.group() + " did not answer a VM start in "
                    + COMMAND_TIMEOUT.toMinutes() + " min");
        } catch (InterruptedException e) {
            control.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting a VM in the VMM host process of " + host.group(), e);
        }
    }

    private static JsonNode readMessage(InputStream in, VmHost host) throws IOException {
        String line = Lines.read(in);
        if (line == null) {
            throw new IOException("the VMM host process of " + host.group() + " closed the connection"
                    + host.endedBecause());
        }
        return Messages.parse(line);
    }

    /** The control connection's reader: replies, console lines, the exit; the end of it ends the VM. */
    private void readEvents(InputStream in) {
        String why = "the VMM host process of " + host.group() + " closed the connection";
        try {
            while (true) {
                String line = Lines.read(in);
                if (line == null) {
                    break;
                }
                JsonNode m = Messages.parse(line);
                switch (Messages.text(m, "type")) {
                    case "reply" -> {
                        CompletableFuture<JsonNode> f = pending.remove(Messages.integer(m, "id", 0, Integer.MAX_VALUE));
                        if (f == null) {
                            throw new ProtocolException("a reply to nothing asked");
                        }
                        f.complete(m);
                    }
                    case "console" -> {
                        byte[] text = Messages.text(m, "line").getBytes(StandardCharsets.UTF_8);
                        console.accept(text, 0, text.length);
                        console.accept(new byte[]{'\n'}, 0, 1);
                    }
                    case "exit" -> exited(exitOf(m));
                    default -> throw new ProtocolException("unknown message type " + Messages.clip(m.path("type").asText()));
                }
            }
        } catch (IOException e) {
            if (destroyed.get()) {
                return; // our own destroy closed the connection under this reader
            }
            why = "the VMM host process of " + host.group()
                    + (e instanceof ProtocolException ? " broke the protocol: " : " connection failed: ") + e.getMessage();
            LOG.log(System.Logger.Level.WARNING, why);
        }
        // The connection is gone: nothing more will be answered, and the VM is gone with it.
        String reason = why + host.endedBecause();
        exited(new VmExit(VmExit.Reason.ERROR, reason));
        pending.values().forEach(f -> f.completeExceptionally(new IOException(reason)));
        endChannel();
    }

    /**
     * The control connection is gone: the function channel's reader must see its end of stream
     * (read returns -1, as {@link MicroVm#fromGuest} promises), not a closed channel's exception.
     * So its input is shut down, not closed; destroy closes both.
     */
    private void endChannel() {
        try {
            control.close();
        } catch (IOException ignored) {
            // Already broken.
        }
        try {
            data.shutdownInput();
        } catch (IOException ignored) {
            // Already closed: by destroy, which ends the stream its own way.
        }
    }

    private static VmExit exitOf(JsonNode m) throws ProtocolException {
        String reason = Messages.text(m, "reason");
        VmExit.Reason r;
        try {
            r = VmExit.Reason.valueOf(reason);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("an unknown exit reason " + Messages.clip(reason));
        }
        return new VmExit(r, Messages.clip(Messages.text(m, "detail")));
    }

    /** The state is set before the exit completes: whoever waits on the exit then sees it stopped. */
    private synchronized void exited(VmExit e) {
        if (exit.isDone()) {
            return;
        }
        if (state != VmState.DESTROYED) {
            state = VmState.STOPPED;
        }
        console.flush();
        exit.complete(e);
    }

    private JsonNode command(String op, String directory) {
        int seq = ids.incrementAndGet();
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(seq, reply);
        ObjectNode cmd = Messages.object().put("id", seq).put("op", op);
        if (directory != null) {
            cmd.put("directory", directory);
        }
        try {
            synchronized (controlOut) {
                Messages.write(controlOut, cmd);
            }
            JsonNode r = reply.get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (!r.path("ok").asBoolean(false)) {
                throw new IllegalStateException("VM " + id + " of " + host.group() + ": " + op + " failed: "
                        + Messages.clip(r.path("message").asText("(no reason given)")));
            }
            String s = Messages.text(r, "state");
            try {
                VmState next = VmState.valueOf(s);
                if (state != VmState.STOPPED || next == VmState.DESTROYED) {
                    state = next;
                }
            } catch (IllegalArgumentException e) {
                throw new ProtocolException("an unknown VM state " + Messages.clip(s));
            }
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(op + " of VM " + id + " of " + host.group(), e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(op + " of VM " + id + " of " + host.group() + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the VMM host process of " + host.group() + " did not answer " + op
                    + " in " + COMMAND_TIMEOUT.toMinutes() + " min");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during " + op, e);
        } finally {
            pending.remove(seq);
        }
    }

    @Override
    public void start() {
        command("start", null);
    }

    @Override
    public void pause() {
        command("pause", null);
    }

    @Override
    public void resume() {
        command("resume", null);
    }

    @Override
    public void snapshot(Path directory) throws IOException {
        try {
            command("snapshot", directory.toAbsolutePath().normalize().toString());
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } catch (IllegalStateException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Asks the host process to destroy the VM, then drops both connections (which would destroy it anyway). */
    @Override
    public void destroy() {
        if (!destroyed.compareAndSet(false, true)) {
            return;
        }
        try {
            if (control.isOpen() && !exit.isDone()) {
                command("destroy", null);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "destroy of VM " + id + ": " + e.getMessage());
        } finally {
            synchronized (this) {
                state = VmState.DESTROYED;
            }
            closeChannels();
            exited(new VmExit(VmExit.Reason.DESTROYED, "destroyed by the host"));
        }
    }

    private void closeChannels() {
        try {
            control.close();
        } catch (IOException ignored) {
            // Already broken.
        }
        try {
            data.close();
        } catch (IOException ignored) {
            // Already broken.
        }
    }

    @Override
    public VmState state() {
        return state;
    }

    @Override
    public CompletableFuture<VmExit> exit() {
        return exit;
    }

    @Override
    public InputStream fromGuest() {
        return fromGuest;
    }

    @Override
    public OutputStream toGuest() {
        return toGuest;
    }

    @Override
    public String toString() {
        return "VM " + id + " in the VMM host process of " + host.group();
    }
}
