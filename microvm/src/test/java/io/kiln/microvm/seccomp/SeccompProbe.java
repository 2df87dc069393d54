package io.kiln.microvm.seccomp;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Run in a child JVM by {@link SeccompInstallTest}: installs the VMM filter, then does what a
 * VMM host process does and what it must not, printing one {@code key=value} line per check.
 */
public final class SeccompProbe {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Seccomp.install(VmmSyscalls.filter());
        System.out.println("installed=yes");
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Seccomp:") || line.startsWith("NoNewPrivs:")) {
                System.out.println(line.replaceAll(":\\s+", "="));
            }
        }
        AtomicInteger done = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            int n = i;
            Thread t = new Thread(() -> {
                try {
                    Path f = dir.resolve("thread-" + n);
                    Files.writeString(f, "thread " + n);
                    if (Files.readString(f).equals("thread " + n)) {
                        done.incrementAndGet();
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        System.out.println("threads=" + done.get());
        System.out.println("unix=" + unixEcho(dir.resolve("probe.sock")));
        System.out.println("mmap=" + mapped(dir.resolve("mapped")));
        // Garbage: the GC must be able to grow and walk the heap under the filter.
        long sum = 0;
        for (int i = 0; i < 200; i++) {
            sum += new byte[1 << 20].length;
        }
        System.out.println("allocated=" + (sum >> 20));
        System.out.println("exec=" + attempt(() -> new ProcessBuilder("true").start().waitFor()));
        System.out.println("inet=" + attempt(() -> SocketChannel.open(StandardProtocolFamily.INET).close()));
        System.out.println("inet6=" + attempt(() -> SocketChannel.open(StandardProtocolFamily.INET6).close()));
        System.out.println("end=yes");
    }

    private interface Action {
        void run() throws Exception;
    }

    private static String attempt(Action a) {
        try {
            a.run();
            return "allowed";
        } catch (Exception e) {
            return "denied " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    private static String unixEcho(Path socket) throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket));
                 SocketChannel accepted = server.accept()) {
                client.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)));
                ByteBuffer in = ByteBuffer.allocate(4);
                while (in.hasRemaining()) {
                    if (accepted.read(in) < 0) {
                        return "eof";
                    }
                }
                return new String(in.array(), StandardCharsets.US_ASCII);
            }
        }
    }

    private static String mapped(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_WRITE, 0, 1 << 20);
            m.putLong(12345, 0x1122334455667788L);
            m.force();
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return Long.toHexString(ch.map(FileChannel.MapMode.READ_ONLY, 0, 1 << 20).getLong(12345));
        }
    }
}
