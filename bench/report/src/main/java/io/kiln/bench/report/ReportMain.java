package io.kiln.bench.report;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The report's command line, for bench/run-all.sh (bench/report/report.sh runs it with its
 * classpath). Three commands:
 * <pre>
 * ReportMain --results DIR --report FILE [--notes FILE]      write the report and DIR/figures/
 * ReportMain host --out FILE --scenarios a,b --quick BOOL ...   write host.json (see HostInfo)
 * ReportMain status --host FILE --scenario NAME ...             record one scenario's outcome in it
 * </pre>
 * Exit status: 0 done, 1 a results file could not be read (the message names it), 2 bad usage.
 */
public final class ReportMain {

    static {
        System.setProperty("java.awt.headless", "true"); // before anything loads AWT
    }

    static final String USAGE = """
            usage:
              ReportMain --results DIR --report FILE [--notes FILE]
                  Reads DIR/host.json and every DIR/<scenario>.json, writes FILE (Markdown, links relative
                  to FILE's directory) and the figures into DIR/figures/.
              ReportMain host --out FILE --scenarios a,b,... --quick true|false [--commit SHA]
                              [--dirty true|false] [--guest-dir DIR]
                  Writes host.json: the date, CPU model, cores, memory, KVM kind (from /sys/module), the
                  JDK (this JVM), QEMU's version (qemu-system-x86_64 --version, or $KILN_QEMU), the guest
                  image key and kernel (--guest-dir, default $KILN_GUEST_DIR), the commit and dirty flag,
                  quick or not, and the scenarios asked for (no outcome yet). Fields: HostInfo's Javadoc.
              ReportMain status --host FILE --scenario NAME [--exit N] [--seconds S] [--reason TEXT]
                  Records one scenario's outcome in host.json: its exit status and seconds when it ran,
                  or the reason it did not run or failed ("script missing", "exit 1: <last log line>").
                  The report prints the reason for a scenario with no result file.
            """;

    private ReportMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command; returns the exit status. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || List.of(args).contains("--help") || List.of(args).contains("-h")) {
            (args.length == 0 ? err : out).print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        try {
            return switch (args[0]) {
                case "host" -> host(options(Arrays.copyOfRange(args, 1, args.length),
                        Set.of("--out", "--scenarios", "--quick", "--commit", "--dirty", "--guest-dir")), out);
                case "status" -> status(options(Arrays.copyOfRange(args, 1, args.length),
                        Set.of("--host", "--scenario", "--exit", "--seconds", "--reason")));
                default -> report(options(args, Set.of("--results", "--report", "--notes")), out);
            };
        } catch (UsageException e) {
            err.println("report: " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (IOException e) {
            err.println("report: " + e.getMessage());
            return 1;
        }
    }

    private static int report(Map<String, String> o, PrintStream out) throws IOException {
        Path results = Path.of(required(o, "--results"));
        Path report = Path.of(required(o, "--report"));
        Path notes = o.containsKey("--notes") ? Path.of(o.get("--notes")) : null;
        RunResults run = RunResults.read(results);
        List<Figures.Figure> figures = Figures.draw(run, results.resolve("figures"));
        String markdown = new ReportWriter(run, figures, report, notes).markdown();
        Path parent = report.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Files.writeString(report, markdown);
        long drawn = figures.stream().filter(Figures.Figure::drawn).count();
        out.println("[report] " + report + ": " + run.scenarios().size() + " scenarios, " + drawn + " of "
                + figures.size() + " figures in " + results.resolve("figures"));
        return 0;
    }

    private static int host(Map<String, String> o, PrintStream out) throws IOException {
        Path file = Path.of(required(o, "--out"));
        List<String> scenarios = Arrays.stream(required(o, "--scenarios").split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).toList();
        String guest = o.getOrDefault("--guest-dir", System.getenv("KILN_GUEST_DIR"));
        HostInfo host = HostInfo.collect(o.get("--commit"), o.containsKey("--dirty") ? bool(o, "--dirty") : null,
                bool(o, "--quick"), scenarios, guest == null || guest.isBlank() ? null : Path.of(guest));
        host.write(file);
        out.println("[report] " + file + ": " + host.cpuModel() + ", " + host.cores() + " cores, KVM " + host.kvmKind());
        return 0;
    }

    private static int status(Map<String, String> o) throws IOException {
        Path file = Path.of(required(o, "--host"));
        HostInfo host = HostInfo.read(file);
        try {
            host.withRun(new HostInfo.ScenarioRun(required(o, "--scenario"),
                    o.containsKey("--exit") ? Integer.valueOf(o.get("--exit")) : null,
                    o.containsKey("--seconds") ? Double.valueOf(o.get("--seconds")) : null, o.get("--reason")))
                    .write(file);
        } catch (NumberFormatException e) {
            throw new UsageException("--exit and --seconds take numbers: " + e.getMessage());
        }
        return 0;
    }

    private static boolean bool(Map<String, String> o, String name) {
        String v = required(o, name);
        if (!v.equals("true") && !v.equals("false")) {
            throw new UsageException(name + " is true or false, not " + v);
        }
        return Boolean.parseBoolean(v);
    }

    private static String required(Map<String, String> o, String name) {
        String v = o.get(name);
        if (v == null) {
            throw new UsageException(name + " is required");
        }
        return v;
    }

    /** {@code --name value} pairs; an unknown name or a missing value is a usage error. */
    static Map<String, String> options(String[] args, Set<String> known) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!known.contains(args[i])) {
                throw new UsageException("unknown option " + args[i]);
            }
            if (i + 1 >= args.length) {
                throw new UsageException(args[i] + " needs a value");
            }
            o.put(args[i], args[++i]);
        }
        return o;
    }

    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }
}
