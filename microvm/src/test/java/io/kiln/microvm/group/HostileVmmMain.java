package io.kiln.microvm.group;

import io.kiln.microvm.qemu.ChannelStreams;

import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A compromised VMM host process, for {@link HostileVmmTest}: it says it is ready, accepts a
 * boot, then answers with what the mode says ({@code args[1]}). Args: the socket path, the mode.
 */
public final class HostileVmmMain {
    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        String mode = args[1];
        Files.deleteIfExists(socket);
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            System.out.println(Messages.READY + " hostile " + mode);
            System.out.flush();
            SocketChannel control = server.accept();
            Lines.read(ChannelStreams.input(control)); // the boot line
            OutputStream out = ChannelStreams.output(control);
            write(out, "{\"type\":\"created\",\"vm\":\"1\"}\n");
            SocketChannel data = server.accept(); // the attach
            switch (mode) {
                case "long-line" -> write(out, "{\"type\":\"console\",\"line\":\"" + "A".repeat(Lines.MAX_LINE + 10) + "\"}\n");
                case "bad-reason" -> write(out, "{\"type\":\"exit\",\"reason\":\"PWNED\",\"detail\":\"x\"}\n");
                case "not-json" -> write(out, "\u0000\u0001 hello\n");
                case "control-chars" -> write(out, "{\"type\":\"console\",\"line\":\"evil\\u001b[2Jline\"}\n"
                        + "{\"type\":\"exit\",\"reason\":\"GUEST_RESET\",\"detail\":\"bye\\u0007\"}\n");
                default -> throw new IllegalArgumentException(mode);
            }
            // Hold the connections until the test is done with them.
            Lines.read(ChannelStreams.input(control));
            data.close();
        }
    }

    private static void write(OutputStream out, String s) throws Exception {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
