package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.agent.testing.Fixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kiln invoke --local}: no server, the built agent jar as a child process (after
 * {@code package}, so the jar exists). The success path of a project made by kiln init is in
 * InitEndToEndIT; here the HTTP mapping, the environment, and each failure, with the agent's
 * test fixtures.
 */
class LocalInvokeIT {

    private static Path work;
    private static Path jar;

    @BeforeAll
    static void fixtures() throws Exception {
        work = Files.createDirectories(Fixtures.work().resolve("local-invoke-" + ProcessHandle.current().pid()));
        jar = Files.write(work.resolve("functions.jar"), Fixtures.functions());
    }

    /** No server anywhere: a --local call must not need one. */
    private static TestCli cli() {
        return new TestCli(work.resolve("home")).env("KILN_URL", "http://127.0.0.1:" + CommandLineTest.closedPort());
    }

    private static TestCli.Result local(String handler, String... more) {
        String[] args = new String[more.length + 7];
        System.arraycopy(new String[]{"invoke", "fn", "--local", "--jar", jar.toString(), "--handler", handler}, 0, args, 0, 7);
        System.arraycopy(more, 0, args, 7, more.length);
        return cli().run(args);
    }

    @Test
    void anHttpHandlerGetsTheRequestAsTheGatewayPassesIt() {
        TestCli.Result r = local("com.example.Http", "--method", "PUT", "--path", "/orders?q=a%20b", "--data", "hi",
                "-H", "X-Multi: 1", "-H", "X-Multi: 2", "-o", "json");
        assertEquals(Exit.OK, r.exit(), r.toString());
        JsonNode out = Json.parse(r.stdout());
        assertEquals(201, out.get("status").asInt(), r.toString());
        assertEquals("PUT /orders text/plain; charset=utf-8 HI", out.get("body").asText());
        assertEquals("/orders/7", out.get("headers").get("location").asText());
        assertEquals("a b", out.get("headers").get("x-query").asText());
        assertEquals("1|2", out.get("headers").get("x-multi").asText());
        assertEquals("0000000000000001", out.get("callId").asText());
        assertTrue(r.stderr().startsWith("Running fn locally (com.example.Http from functions.jar) in an agent process "
                + "on this machine: NOT isolated"), r.stderr());
    }

    @Test
    void theEnvironmentAndTheNameReachTheContext() {
        TestCli.Result r = local("com.example.Env", "--env", "GREETING=hej", "--data", "x");
        assertEquals(Exit.OK, r.exit(), r.toString());
        assertEquals("hej fn:local call=1 inTime=false", r.out(), "the default timeout is 30 s, over the fixture's 5 s");
    }

    @Test
    void aFunctionErrorIsExplainedAndExitsWith1() {
        TestCli.Result r = local("com.example.Fails", "--data", "boom");
        assertEquals(Exit.FAILED, r.exit(), r.toString());
        assertEquals("", r.out());
        assertTrue(r.stderr().endsWith("The call to fn failed (function_error): boom: boom [call 0000000000000001]\n"),
                r.stderr());
    }

    @Test
    void aFailedInitShowsTheFunctionsOutputAndTheReason() {
        TestCli.Result r = local("com.example.BadStatic", "--data", "x");
        assertEquals(Exit.FAILED, r.exit(), r.toString());
        assertTrue(r.stderr().contains("loading config\n"), "the function's output as it ran: " + r.stderr());
        assertTrue(r.stderr().endsWith("fn did not initialise (init_failed, static_init): static initialisation of "
                + "com.example.BadStatic failed: java.lang.IllegalStateException: no config\n"), r.stderr());
    }

    @Test
    void aMissingJarOrAgentIsAClearError() {
        TestCli.Result r = cli().run("invoke", "fn", "--local", "--jar", work.resolve("nope.jar").toString(),
                "--handler", "a.B");
        assertEquals(Exit.USAGE, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("Cannot read the jar " + work.resolve("nope.jar")), r.stderr());

        TestCli.Result agent = cli().env("KILN_AGENT_JAR", work.resolve("no-agent.jar").toString())
                .run("invoke", "fn", "--local", "--jar", jar.toString(), "--handler", "a.B");
        assertEquals(Exit.FAILED, agent.exit(), agent.toString());
        assertTrue(agent.stderr().startsWith("There is no agent jar at " + work.resolve("no-agent.jar")), agent.stderr());
    }
}
