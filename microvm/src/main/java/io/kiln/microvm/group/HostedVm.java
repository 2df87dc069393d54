package io.kiln.microvm.group;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.microvm.console.ConsoleLog;
import io.kiln.microvm.vm.KvmMicroVm;
import io.kiln.microvm.vm.KvmSnapshots;
import io.kiln.microvm.vm.MicroVm;
import io.kiln.microvm.vm.MicroVmConfig;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One VM in the host process and its control connection: commands in, replies, console lines
 * and the exit out, all JSON lines. Commands run on their own thread in arrival order, except
 * {@code destroy}, which runs at once: KvmMicroVm's destroy cuts short a pause in progress.
 */
final class HostedVm {
    private static final System.Logger LOG = System.getLogger(HostedVm.class.getName());
    private final String id;
    private final OutputStream out;
    private final MicroVm vm;
    private final ExecutorService commands;

    private HostedVm(String id, OutputStream out, MicroVm vm) {
        this.id = id;
        this.out = out;
        this.vm = vm;
        this.commands = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "vmm-vm-" + id);
            t.setDaemon(true);
            return t;
        });
    }

    /** Makes the VM a boot or restore line asks for; {@link #created} then tells the control plane. */
    static HostedVm create(String id, JsonNode hello, OutputStream out) throws IOException {
        HostedVm[] self = new HostedVm[1];
        // A console line never comes before `self` is set (the guest runs only after start), but
        // if one did it would wait here: create holds out's lock until `self` is set.
        ConsoleLog console = new ConsoleLog(line -> {
            synchronized (out) {
                self[0].send(Messages.object().put("type", "console").put("line", line));
            }
        }, 1);
        OutputStream consoleBytes = new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[]{(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                console.accept(b, off, len);
            }
        };
        MicroVm vm;
        synchronized (out) {
            if ("boot".equals(Messages.text(hello, "op"))) {
                String initrd = hello.path("initrd").isTextual() ? hello.get("initrd").asText() : null;
                MicroVmConfig config = MicroVmConfig.builder()
                        .memoryMib(Messages.integer(hello, "memoryMib", 16, 1 << 20))
                        .kernel(absolute(Messages.text(hello, "kernel")))
                        .initrd(initrd == null ? null : absolute(initrd))
                        .commandLine(Messages.text(hello, "commandLine"))
                        .functionChannel(Messages.bool(hello, "functionChannel"))
                        .rng(Messages.bool(hello, "rng"))
                        .consoleLog(consoleBytes)
                        .build();
                vm = KvmMicroVm.create(config);
                // The kernel (~18 MB) was read into the heap to be copied into guest RAM: a full
                // collection now gives that back to the OS (the heap shrinks to MaxHeapFreeRatio)
                // instead of an idle group process keeping it.
                System.gc();
            } else {
                vm = KvmSnapshots.restore(absolute(Messages.text(hello, "directory")), consoleBytes);
            }
            self[0] = new HostedVm(id, out, vm);
        }
        HostedVm h = self[0];
        vm.exit().whenComplete((exit, e) -> {
            console.flush();
            ObjectNode m = Messages.object().put("type", "exit");
            if (exit != null) {
                m.put("reason", exit.reason().name()).put("detail", exit.detail());
            } else {
                m.put("reason", "ERROR").put("detail", String.valueOf(e));
            }
            h.send(m);
        });
        return h;
    }

    /** Tells the control plane the VM exists: call once it can be attached to. */
    void created() {
        send(Messages.object().put("type", "created").put("vm", id));
    }

    private static Path absolute(String path) throws ProtocolException {
        Path p = Path.of(path);
        if (!p.isAbsolute() || !p.normalize().equals(p)) {
            throw new ProtocolException("not an absolute normal path: " + Messages.clip(path));
        }
        return p;
    }

    /** Reads commands until the control connection ends. */
    void serve(InputStream in) throws IOException {
        while (true) {
            String line = Lines.read(in);
            if (line == null) {
                return;
            }
            JsonNode cmd = Messages.parse(line);
            long seq = Messages.integer(cmd, "id", 0, Integer.MAX_VALUE);
            String op = Messages.text(cmd, "op");
            if ("destroy".equals(op)) {
                run(seq, cmd, op);
            } else {
                commands.execute(() -> run(seq, cmd, op));
            }
        }
    }

    private void run(long seq, JsonNode cmd, String op) {
        ObjectNode reply = Messages.object().put("type", "reply").put("id", seq);
        try {
            switch (op) {
                case "start" -> vm.start();
                case "pause" -> vm.pause();
                case "resume" -> vm.resume();
                case "snapshot" -> vm.snapshot(absolute(Messages.text(cmd, "directory")));
                case "destroy" -> vm.destroy();
                case "state" -> {
                }
                default -> throw new ProtocolException("unknown op " + Messages.clip(op));
            }
            reply.put("ok", true).put("state", vm.state().name());
        } catch (Exception e) {
            reply.put("ok", false).put("message", e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        send(reply);
    }

    /**
     * The VM's function channel over {@code ch}: guest bytes out until the guest's stream ends
     * (then the write side is shut down, which is how the control plane sees the end), and the
     * control plane's bytes in. Runs the inbound copy on this thread.
     */
    void attach(SocketChannel ch, InputStream in, OutputStream out) {
        Thread pump = new Thread(() -> {
            try {
                vm.fromGuest().transferTo(out);
                ch.shutdownOutput();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "VM " + id + " channel out: " + e.getMessage());
            }
        }, "vmm-from-guest-" + id);
        pump.setDaemon(true);
        pump.start();
        try {
            byte[] buf = new byte[16384];
            int n;
            while ((n = in.read(buf)) > 0) {
                OutputStream toGuest = vm.toGuest();
                toGuest.write(buf, 0, n);
                toGuest.flush();
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "VM " + id + " channel in: " + e.getMessage());
        }
    }

    void destroy() {
        vm.destroy();
        commands.shutdown();
    }

    private void send(JsonNode message) {
        synchronized (out) {
            try {
                Messages.write(out, message);
            } catch (IOException e) {
                // The control plane is gone; the connection's reader will see it and destroy the VM.
                LOG.log(System.Logger.Level.DEBUG, "VM " + id + ": " + e.getMessage());
            }
        }
    }
}
