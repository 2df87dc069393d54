package io.kiln.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProjectBuildTest {

    @TempDir
    Path dir;

    private Path touch(String name) throws Exception {
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        Files.write(p, new byte[]{1});
        return p;
    }

    @Test
    void picksTheOneJarThatIsNotAByproduct() throws Exception {
        Path jar = touch("target/hello-1.0.jar");
        touch("target/original-hello-1.0.jar");
        touch("target/hello-1.0-sources.jar");
        touch("target/hello-1.0-javadoc.jar");
        touch("target/hello-1.0-tests.jar");
        touch("target/hello-1.0.pom");
        Files.createDirectories(dir.resolve("target/classes.jar")); // a directory, not a jar
        assertEquals(jar, ProjectBuild.pickJar(dir.resolve("target")));
    }

    @Test
    void noJarIsAClearDeployFailure() throws Exception {
        touch("target/original-hello.jar");
        CliException e = assertThrows(CliException.class, () -> ProjectBuild.pickJar(dir.resolve("target")));
        assertEquals(Exit.DEPLOY_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("left no jar"), e.getMessage());
        CliException none = assertThrows(CliException.class, () -> ProjectBuild.pickJar(dir.resolve("nothing")));
        assertTrue(none.getMessage().contains("no " + dir.resolve("nothing")), none.getMessage());
    }

    @Test
    void severalJarsNameThemAndSuggestJar() throws Exception {
        touch("target/a.jar");
        touch("target/b.jar");
        CliException e = assertThrows(CliException.class, () -> ProjectBuild.pickJar(dir.resolve("target")));
        assertEquals(Exit.DEPLOY_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("(a.jar, b.jar)"), e.getMessage());
        assertTrue(e.getMessage().contains("--jar"), e.getMessage());
    }

    @Test
    void aStandaloneProjectIsBuiltWhereItIs() throws Exception {
        Files.writeString(dir.resolve("pom.xml"), "<project><artifactId>x</artifactId></project>");
        ProjectBuild.Plan plan = ProjectBuild.plan(dir);
        assertEquals(dir, plan.root());
        assertEquals(List.of("mvn", "-q", "-B", "-DskipTests", "package"), plan.command());
    }

    @Test
    void aModuleIsBuiltFromTheTopOfItsBuildWithItsSiblings() throws Exception {
        Files.writeString(dir.resolve("pom.xml"), "<project><modules><module>fns</module></modules></project>");
        Files.createDirectories(dir.resolve("fns/hello"));
        Files.writeString(dir.resolve("fns/pom.xml"), "<project><modules><module>hello</module></modules></project>");
        Files.writeString(dir.resolve("fns/hello/pom.xml"), "<project/>");
        Path mvnw = touch("mvnw");
        assertTrue(mvnw.toFile().setExecutable(true));
        ProjectBuild.Plan plan = ProjectBuild.plan(dir.resolve("fns/hello"));
        assertEquals(dir, plan.root());
        assertEquals(List.of(mvnw.toString(), "-q", "-B", "-DskipTests", "-f", dir.resolve("pom.xml").toString(),
                "-pl", "fns/hello", "-am", "package"), plan.command());
    }

    @Test
    void aParentThatDoesNotListTheDirectoryIsNotItsBuild() throws Exception {
        Files.writeString(dir.resolve("pom.xml"), "<project><modules><module>other</module></modules></project>");
        Files.createDirectories(dir.resolve("mine"));
        Files.writeString(dir.resolve("mine/pom.xml"), "<project/>");
        assertEquals(dir.resolve("mine"), ProjectBuild.plan(dir.resolve("mine")).root());
    }

    @Test
    void kilnsOwnExamplesAreBuiltFromTheRepository() {
        Path repo = Path.of(System.getProperty("user.dir")).getParent(); // surefire runs in cli/
        ProjectBuild.Plan plan = ProjectBuild.plan(repo.resolve("examples/hello"));
        assertEquals(repo, plan.root());
        assertTrue(plan.command().containsAll(List.of("-pl", "examples/hello", "-am")), plan.command().toString());
    }

    @Test
    void noPomIsAUsageError() {
        assertEquals(Exit.USAGE, assertThrows(CliException.class, () -> ProjectBuild.plan(dir)).exitCode());
    }
}
