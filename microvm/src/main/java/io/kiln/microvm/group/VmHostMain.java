package io.kiln.microvm.group;

import io.kiln.microvm.kvm.Kvm;
import io.kiln.microvm.seccomp.Seccomp;
import io.kiln.microvm.seccomp.VmmSyscalls;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The VMM host process: one per VM group (a function), started ahead of need by the control
 * plane ({@link VmHost}), usually inside a jail. It installs the VMM seccomp filter on every
 * thread, listens on its Unix socket and serves {@code KvmMicroVm}s ({@link VmHostServer}).
 *
 * <p>Usage: {@code VmHostMain --socket PATH [--seccomp on|off]}. It exits when its stdin ends
 * (the control plane is gone), so a group process never outlives its gateway.
 */
public final class VmHostMain {
    private VmHostMain() {
    }

    public static void main(String[] args) throws IOException {
        Path socket = null;
        boolean seccomp = true;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                usage("missing value after " + a);
            }
            switch (a) {
                case "--socket" -> socket = Path.of(args[++i]);
                case "--seccomp" -> {
                    String v = args[++i];
                    if (!v.equals("on") && !v.equals("off")) {
                        usage("--seccomp on|off, not " + v);
                    }
                    seccomp = v.equals("on");
                }
                default -> usage("unknown option " + a);
            }
        }
        if (socket == null) {
            usage("--socket is required");
        }
        // Open /dev/kvm once before the filter: a host process that cannot is useless, and should
        // say so at start rather than at the first boot.
        Kvm.open().close();
        if (seccomp) {
            Seccomp.install(VmmSyscalls.filter());
        }
        VmHostServer server = VmHostServer.bind(socket);
        Thread watchdog = new Thread(VmHostMain::exitWhenStdinEnds, "vmm-stdin-watch");
        watchdog.setDaemon(true);
        watchdog.start();
        System.out.println(Messages.READY + " pid=" + ProcessHandle.current().pid() + " seccomp=" + (seccomp ? "on" : "off"));
        System.out.flush();
        server.serve();
    }

    private static void exitWhenStdinEnds() {
        try {
            while (System.in.read() >= 0) {
                // The control plane sends nothing on stdin; only its end matters.
            }
        } catch (IOException e) {
            // Same as the end.
        }
        System.exit(0);
    }

    private static void usage(String problem) {
        System.err.println("kiln-vmm: " + problem + "\nusage: VmHostMain --socket PATH [--seccomp on|off]");
        System.exit(2);
    }
}
