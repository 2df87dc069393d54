package io.kiln.cli;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code kiln deploy --project DIR}: builds the Maven project in DIR and finds the jar to deploy.
 *
 * <p>A standalone project is built where it is: {@code mvn -q -B -DskipTests package} (or its
 * {@code ./mvnw}). A project that is a module of a multi-module build (like
 * {@code examples/hello} in Kiln's own repository) is built from the top of that build with
 * {@code -pl DIR -am}, so its sibling modules (the function API) come from the same source
 * tree and need not be installed in ~/.m2 first: what a user who just cloned the repository
 * expects.
 *
 * <p>The jar is the one file {@code DIR/target/*.jar} that is not {@code original-*} (the
 * shade plugin's input) nor {@code *-sources}, {@code *-javadoc} or {@code *-tests}.
 */
public final class ProjectBuild {

    private ProjectBuild() {
    }

    /** What to run, and where. */
    public record Plan(Path root, List<String> command) {
    }

    public static Plan plan(Path dir) {
        if (!Files.isRegularFile(dir.resolve("pom.xml"))) {
            throw new CliException(Exit.USAGE, "There is no pom.xml in " + dir
                    + ": --project takes the directory of a Maven project.");
        }
        Path root = reactorRoot(dir);
        List<String> cmd = new ArrayList<>();
        Path mvnw = root.resolve("mvnw");
        cmd.add(Files.isExecutable(mvnw) ? mvnw.toString() : "mvn");
        cmd.addAll(List.of("-q", "-B", "-DskipTests"));
        if (!root.equals(dir)) {
            cmd.addAll(List.of("-f", root.resolve("pom.xml").toString(), "-pl", root.relativize(dir).toString(),
                    "-am"));
        }
        cmd.add("package");
        return new Plan(root, cmd);
    }

    /**
     * The top of the multi-module build {@code dir} belongs to: while the parent directory's
     * pom.xml lists the directory among its modules, go up. {@code dir} itself when it is a
     * project of its own.
     */
    static Path reactorRoot(Path dir) {
        Path d = dir.toAbsolutePath().normalize();
        while (isModuleOfParent(d)) {
            d = d.getParent();
        }
        return d;
    }

    private static boolean isModuleOfParent(Path d) {
        Path parent = d.getParent();
        if (parent == null || !Files.isRegularFile(parent.resolve("pom.xml"))) {
            return false;
        }
        for (String m : modules(parent.resolve("pom.xml"))) {
            if (parent.resolve(m).normalize().equals(d)) {
                return true;
            }
        }
        return false;
    }

    /** The {@code <modules>} of a pom, including those in profiles. */
    static List<String> modules(Path pom) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document doc = f.newDocumentBuilder().parse(pom.toFile());
            NodeList nodes = doc.getElementsByTagName("module");
            List<String> modules = new ArrayList<>();
            for (int i = 0; i < nodes.getLength(); i++) {
                Element e = (Element) nodes.item(i);
                modules.add(e.getTextContent().strip());
            }
            return modules;
        } catch (Exception e) {
            return List.of();
        }
    }

    /** Builds the project in {@code dir} (its output copied to {@code log}) and returns its one jar. */
    public static Path build(Path dir, PrintStream log) {
        run(plan(dir), dir, log);
        return pickJar(dir.resolve("target"));
    }

    /** Runs the build, its output copied to {@code log}; a {@link Exit#DEPLOY_FAILED} failure if it fails. */
    public static void run(Plan plan, Path dir, PrintStream log) {
        log.println("Building " + dir + ": " + String.join(" ", plan.command())
                + (plan.root().equals(dir) ? "" : " (in " + plan.root() + ")"));
        ProcessBuilder pb = new ProcessBuilder(plan.command()).directory(plan.root().toFile()).redirectErrorStream(true);
        int status;
        try {
            Process p = pb.start();
            try (InputStream out = p.getInputStream()) {
                out.transferTo(log);
            }
            status = p.waitFor();
        } catch (IOException e) {
            throw new CliException(Exit.DEPLOY_FAILED, "Cannot run " + plan.command().get(0) + " to build " + dir
                    + ": " + e.getMessage() + ". Install Maven, or build the jar yourself and pass --jar.");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KilnClient.Interrupted();
        }
        log.flush();
        if (status != 0) {
            throw new CliException(Exit.DEPLOY_FAILED, "The build of " + dir + " failed (" + plan.command().get(0)
                    + " exited with " + status + "); its output is above.");
        }
    }

    /** The one jar in {@code target} to deploy. */
    public static Path pickJar(Path target) {
        if (!Files.isDirectory(target)) {
            throw new CliException(Exit.DEPLOY_FAILED, "The build made no " + target
                    + " directory: is the project's packaging jar?");
        }
        List<Path> jars;
        try (Stream<Path> s = Files.list(target)) {
            jars = s.filter(Files::isRegularFile).filter(p -> isDeployable(p.getFileName().toString())).sorted().toList();
        } catch (IOException e) {
            throw new CliException(Exit.DEPLOY_FAILED, "Cannot list " + target + ": " + e.getMessage());
        }
        if (jars.isEmpty()) {
            throw new CliException(Exit.DEPLOY_FAILED, "The build left no jar in " + target
                    + ": is the project's packaging jar?");
        }
        if (jars.size() > 1) {
            throw new CliException(Exit.DEPLOY_FAILED, "The build left several jars in " + target + " ("
                    + String.join(", ", jars.stream().map(p -> p.getFileName().toString()).toList())
                    + "); deploy the right one with --jar.");
        }
        return jars.get(0);
    }

    static boolean isDeployable(String name) {
        return name.endsWith(".jar") && !name.startsWith("original-") && !name.endsWith("-sources.jar")
                && !name.endsWith("-javadoc.jar") && !name.endsWith("-tests.jar") && !name.endsWith("-test-sources.jar");
    }
}
