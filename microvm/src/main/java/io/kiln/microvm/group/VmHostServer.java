package io.kiln.microvm.group;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.microvm.qemu.ChannelStreams;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The VMM host process's side of the protocol: accepts connections on its Unix socket; a
 * connection's first line says what it is. {@code boot}/{@code restore} make a VM and turn the
 * connection into that VM's control connection ({@link HostedVm}); {@code attach} turns it into
 * the raw byte pipe of a VM's function channel. One thread per connection: a group holds a few VMs.
 */
final class VmHostServer {
    private static final System.Logger LOG = System.getLogger(VmHostServer.class.getName());
    private final ServerSocketChannel server;
    private final Map<String, HostedVm> vms = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();

    private VmHostServer(ServerSocketChannel server) {
        this.server = server;
    }

    /** Listens at {@code socket}, replacing a stale socket file a dead predecessor left. */
    static VmHostServer bind(Path socket) throws IOException {
        Files.deleteIfExists(socket);
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(socket));
        return new VmHostServer(s);
    }

    /** Accepts until the socket is closed. */
    void serve() throws IOException {
        while (true) {
            SocketChannel ch = server.accept();
            Thread t = new Thread(() -> handle(ch), "vmm-connection");
            t.setDaemon(true);
            t.start();
        }
    }

    private void handle(SocketChannel ch) {
        try {
            InputStream raw = ChannelStreams.input(ch);
            OutputStream out = ChannelStreams.output(ch);
            // Read unbuffered: on a data connection every byte after this line is the guest's.
            String first = Lines.read(raw);
            if (first == null) {
                ch.close();
                return;
            }
            JsonNode hello = Messages.parse(first);
            String op = Messages.text(hello, "op");
            switch (op) {
                case "boot", "restore" -> control(ch, new BufferedInputStream(raw), out, hello);
                case "attach" -> {
                    String id = Messages.text(hello, "vm");
                    HostedVm vm = vms.get(id);
                    if (vm == null) {
                        throw new ProtocolException("no VM " + Messages.clip(id));
                    }
                    vm.attach(ch, raw, out);
                }
                default -> throw new ProtocolException("unknown op " + Messages.clip(op));
            }
        } catch (IOException | RuntimeException | Error e) {
            // Closing is the answer the control plane sees: its read ends, and its VM with it.
            LOG.log(System.Logger.Level.WARNING, "VMM connection dropped: " + e);
            closeQuietly(ch);
            if (e instanceof Error err && !(err instanceof OutOfMemoryError)) {
                throw err;
            }
        }
    }

    private void control(SocketChannel ch, InputStream in, OutputStream out, JsonNode hello) throws IOException {
        String id = Integer.toString(ids.incrementAndGet());
        HostedVm vm;
        try {
            vm = HostedVm.create(id, hello, out);
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            // An OutOfMemoryError here is this VM's alone (its kernel and initramfs read into the
            // heap): say so and keep serving the group's other VMs.
            Messages.write(out, Messages.object().put("type", "error").put("message", e.toString()));
            ch.close();
            return;
        }
        // Registered before the client hears of it: its attach may come right after "created".
        vms.put(id, vm);
        vm.created();
        try {
            vm.serve(in);
        } finally {
            // The control connection is the VM's lifeline: when it goes, so does the VM.
            vms.remove(id);
            vm.destroy();
            closeQuietly(ch);
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // Closing a broken connection: nothing left to tell.
        }
    }
}
