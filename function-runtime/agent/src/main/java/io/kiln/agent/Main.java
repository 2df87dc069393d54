package io.kiln.agent;

import io.kiln.agent.log.StdioCapture;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * {@code java -jar kiln-agent.jar [--guest] [--channel PATH] [--frame-timeout-ms N]
 * [--work-dir DIR]}
 *
 * <ul>
 *   <li>no {@code --channel}: frames on stdin/stdout (how tests and host processes drive it);</li>
 *   <li>{@code --channel PATH}: frames on that device, read and written through one open
 *       file (in the guest {@code /dev/vport0p1}, the virtio-serial port named
 *       {@code kiln.channel}, on both engines: a plain character device, not a tty, so no
 *       raw mode);</li>
 *   <li>{@code --guest}: inside the microVM: RESTORED may set the clock and write the kernel
 *       entropy pool, and READY is also announced on the serial console (stderr).</li>
 * </ul>
 *
 * <p>In every mode {@code System.out}/{@code System.err} become LOG frames and
 * {@code System.in} is empty, so nothing but the agent touches the channel. Guest-only system
 * properties: {@code kiln.agent.restore.serve} names the directory of the served restore
 * helper's FIFOs (default {@code /run/kiln-restore}, where the guest's init starts
 * {@code kiln-restore --serve}; empty for none), and {@code kiln.agent.restore} the command
 * run instead after every restore when no helper is served there (default
 * {@code /bin/kiln-restore}, which the guest image carries). Either reseeds the kernel and sets
 * the clock.
 *
 * <p>Exits with {@link ExitCodes}; by {@code Runtime.halt}, so neither user shutdown hooks nor
 * user threads can keep a finished agent alive.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        AgentOptions options = AgentOptions.host();
        String channel = null;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--guest" -> options = options.withGuest(true);
                    case "--channel" -> channel = value(args, ++i);
                    case "--frame-timeout-ms" -> options = options.withFrameTimeout(
                            Duration.ofMillis(Long.parseLong(value(args, ++i))));
                    case "--work-dir" -> options = options.withWorkDir(Path.of(value(args, ++i)));
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
            }
        } catch (IllegalArgumentException e) {
            System.err.println("kiln-agent: " + e.getMessage());
            System.err.println("usage: kiln-agent [--guest] [--channel PATH] "
                    + "[--frame-timeout-ms N] [--work-dir DIR]");
            Runtime.getRuntime().halt(ExitCodes.USAGE);
            return;
        }
        String serveDir = System.getProperty("kiln.agent.restore.serve", AgentOptions.RESTORE_SERVE_DIR);
        options = options
                .withRestoreCommand(System.getProperty("kiln.agent.restore", AgentOptions.RESTORE_COMMAND))
                .withRestoreServeDir(serveDir.isEmpty() ? null : Path.of(serveDir));

        InputStream in;
        OutputStream out;
        try {
            if (channel != null) {
                // One open file for both directions: a virtio-serial port (the guest's
                // /dev/vport0p1) can be open only once at a time. Checked first, because "rw"
                // would create a plain file where the device is missing.
                if (!Files.exists(Path.of(channel))) {
                    throw new java.io.FileNotFoundException(channel + " does not exist");
                }
                java.io.RandomAccessFile device = new java.io.RandomAccessFile(channel, "rw");
                in = new DeviceInputStream(device.getFD());
                out = new FileOutputStream(device.getFD());
            } else {
                in = new FileInputStream(FileDescriptor.in);
                out = new FileOutputStream(FileDescriptor.out);
            }
        } catch (IOException e) {
            System.err.println("kiln-agent: cannot open channel " + channel + ": " + e);
            Runtime.getRuntime().halt(ExitCodes.CHANNEL);
            return;
        }

        Agent agent = new Agent(options, in, out);
        StdioCapture stdio = StdioCapture.install(agent.logs());
        agent.flushLogsWith(stdio::flush);
        if (options.guest()) {
            agent.console(stdio.originalErr());
        }
        PrintStream err = stdio.originalErr();
        Thread.setDefaultUncaughtExceptionHandler((thread, error) -> {
            if (ErrorReport.isFatal(error)) {
                agent.fatal(error);
            } else {
                // What the JVM would print, but into the captured stderr: a LOG frame.
                System.err.print("Exception in thread \"" + thread.getName() + "\" ");
                error.printStackTrace();
            }
        });

        int code = agent.run();
        stdio.flush();
        if (options.workDir() == null) {
            deleteQuietly(agent.workDir());
        }
        if (code != ExitCodes.CLEAN && options.guest()) {
            err.println("kiln-agent: exiting with code " + code);
        }
        err.flush();
        Runtime.getRuntime().halt(code);
    }

    /**
     * A virtio-serial port supports neither FIONREAD nor lseek, so
     * {@link FileInputStream#available()} throws "Illegal seek" there, and
     * {@link java.io.BufferedInputStream} asks it in the middle of a read. Nothing needs the
     * answer: say 0.
     */
    private static final class DeviceInputStream extends FileInputStream {
        DeviceInputStream(FileDescriptor fd) {
            super(fd);
        }

        @Override
        public int available() {
            return 0;
        }
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException e) {
            // a temp dir left behind is not worth failing an exit for
        }
    }
}
