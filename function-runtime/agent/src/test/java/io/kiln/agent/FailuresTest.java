package io.kiln.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.agent.testing.Fixtures;
import io.kiln.agent.testing.InProcessAgent;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.Frame;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.LoadFrame;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static io.kiln.agent.testing.AgentSession.expect;
import static io.kiln.agent.testing.AgentSession.meta;
import static io.kiln.agent.testing.AgentSession.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exceptions in calls and in init: reported exactly, and the agent keeps serving. */
class FailuresTest {

    private static InProcessAgent loaded(String handler) {
        InProcessAgent a = new InProcessAgent();
        a.ready();
        expect(a.load(Fixtures.functions(), handler), InitializedFrame.class, 0);
        return a;
    }

    @Test
    void aHugeExceptionMessageIsCutAndKeepsItsCode() {
        try (InProcessAgent a = loaded("com.example.Fails")) {
            String huge = "x".repeat(300_000); // the message alone would be over the metadata cap
            JsonNode m = meta(expect(a.invoke(1, "throw:" + huge), ErrorFrame.class, 1));
            assertEquals("function_error", m.get("code").asText());
            assertEquals("x".repeat(ErrorReport.MAX_MESSAGE_CHARS) + "... ("
                    + (huge.length() - ErrorReport.MAX_MESSAGE_CHARS) + " more characters)", m.get("message").asText());
            expect(a.invoke(2, "fine"), ResultFrame.class, 2); // still serving
        }
    }

    @Test
    void exceptionBecomesErrorAndTheAgentKeepsServing() {
        try (InProcessAgent a = loaded("com.example.Fails")) {
            ErrorFrame e = expect(a.invoke(1, "boom"), ErrorFrame.class, 1);
            JsonNode m = meta(e);
            assertEquals("function_error", m.get("code").asText());
            assertEquals("java.lang.IllegalStateException", m.get("type").asText());
            assertEquals("boom: boom", m.get("message").asText());
            // Trimmed to the user's frames: nothing of the agent or of reflection.
            assertEquals(1, m.get("stack").size());
            assertTrue(m.get("stack").get(0).asText().startsWith("com.example.Fails.handle(Fails.java:"),
                    m.toString());
            assertEquals("java.io.IOException", m.at("/cause/type").asText());
            assertEquals("disk", m.at("/cause/message").asText());

            assertEquals("ok:fine", text(expect(a.invoke(2, "fine"), ResultFrame.class, 2)));

            // A StackOverflowError unwinds: reported, not fatal, stack capped.
            ErrorFrame so = expect(a.invoke(3, "deep"), ErrorFrame.class, 3);
            assertEquals("java.lang.StackOverflowError", meta(so).get("type").asText());
            assertEquals(ErrorReport.MAX_FRAMES + 1, meta(so).get("stack").size());
            assertEquals("...", meta(so).get("stack").get(ErrorReport.MAX_FRAMES).asText());

            assertEquals("ok:again", text(expect(a.invoke(4, "again"), ResultFrame.class, 4)));
        }
    }

    @Test
    void inputThatDoesNotBindIsBadInput() {
        try (InProcessAgent a = loaded("com.example.Greeter")) {
            ErrorFrame e = expect(a.invoke(1, "{not json"), ErrorFrame.class, 1);
            assertEquals("bad_input", meta(e).get("code").asText());
            assertTrue(meta(e).get("message").asText()
                    .startsWith("input does not bind to com.example.Person: "), e.toString());
            assertEquals("{\"message\":\"Hello, Bo\",\"adult\":false}",
                    text(expect(a.invoke(2, "{\"name\":\"Bo\"}"), ResultFrame.class, 2)));
        }
    }

    private static JsonNode initError(String handler) {
        return initError(Fixtures.functions(), handler);
    }

    private static JsonNode initError(byte[] jar, String handler) {
        try (InProcessAgent a = new InProcessAgent()) {
            a.ready();
            ErrorFrame e = expect(a.load(jar, handler), ErrorFrame.class, 0);
            // The failed instance refuses calls and a second LOAD; it must be replaced.
            ErrorFrame refused = expect(a.invoke(1, "x"), ErrorFrame.class, 1);
            assertEquals("not_loaded", meta(refused).get("code").asText());
            assertEquals("the function failed to initialise", meta(refused).get("message").asText());
            a.send(new LoadFrame("{\"handler\":\"com.example.Upper\"}", jar));
            assertEquals("unexpected_frame", meta(a.reply(ErrorFrame.class)).get("code").asText());
            return meta(e);
        }
    }

    @Test
    void staticInitialiserFailure() {
        JsonNode m = initError("com.example.BadStatic");
        assertEquals("init_failed", m.get("code").asText());
        assertEquals("static_init", m.get("phase").asText());
        assertEquals("static initialisation of com.example.BadStatic failed: "
                + "java.lang.IllegalStateException: no config", m.get("message").asText());
        assertEquals("java.lang.IllegalStateException", m.get("type").asText());
        assertTrue(m.get("stack").get(0).asText().startsWith("com.example.BadStatic.load("));
    }

    @Test
    void constructorFailure() {
        JsonNode m = initError("com.example.BadCtor");
        assertEquals("construct", m.get("phase").asText());
        assertEquals("java.lang.UnsupportedOperationException", m.get("type").asText());
        assertEquals("constructor of com.example.BadCtor failed: "
                + "java.lang.UnsupportedOperationException: cannot construct",
                m.get("message").asText());
    }

    @Test
    void classWithoutAHandlerInterface() {
        JsonNode m = initError("com.example.NotAHandler");
        assertEquals("handler", m.get("phase").asText());
        assertEquals("com.example.NotAHandler implements none of io.kiln.function.Handler, "
                + "java.util.function.Function, Lambda RequestHandler or RequestStreamHandler; "
                + "implement one or name a method as com.example.NotAHandler::method",
                m.get("message").asText());
        assertFalse(m.has("type"));
    }

    @Test
    void missingClassMethodAndJar() {
        JsonNode m = initError("com.example.Missing");
        assertEquals("load", m.get("phase").asText());
        assertEquals("handler class com.example.Missing not found in the jar",
                m.get("message").asText());
        assertEquals("java.lang.ClassNotFoundException", m.get("type").asText());

        m = initError("com.example.Upper::nope");
        assertEquals("handler", m.get("phase").asText());
        assertEquals("no public method nope in com.example.Upper", m.get("message").asText());

        m = initError("not a jar".getBytes(StandardCharsets.UTF_8), "com.example.Upper");
        assertEquals("load", m.get("phase").asText());
        assertTrue(m.get("message").asText().startsWith("the function jar cannot be read: "));
    }

    @Test
    void primingHookFailure() {
        JsonNode m = initError("com.example.BadPrime");
        assertEquals("prime", m.get("phase").asText());
        assertEquals("java.lang.IllegalStateException", m.get("type").asText());
        assertEquals("a before-snapshot hook failed: java.lang.IllegalStateException: "
                + "cannot prime", m.get("message").asText());
    }

    @Test
    void aMemorySizeThatWouldWrapIsBadMetadata() {
        try (InProcessAgent a = new InProcessAgent()) {
            a.ready();
            // 2^32 + 1 MiB: cast to an int it would have read as 1.
            a.send(new LoadFrame("{\"handler\":\"com.example.Upper\",\"memoryMb\":4294967297}", Fixtures.functions()));
            ErrorFrame e = a.reply(ErrorFrame.class);
            assertEquals("{\"code\":\"bad_metadata\",\"message\":\"\\\"memoryMb\\\" must be a positive integer up to "
                    + Integer.MAX_VALUE + "\"}", e.metadata());
            expect(a.load(Fixtures.functions(), "com.example.Upper"), InitializedFrame.class, 0);
        }
    }

    @Test
    void missingHandlerInLoadIsBadMetadata() {
        try (InProcessAgent a = new InProcessAgent()) {
            a.ready();
            a.send(new LoadFrame("{\"function\":\"x\"}", Fixtures.functions()));
            ErrorFrame e = a.reply(ErrorFrame.class);
            assertEquals("{\"code\":\"bad_metadata\",\"message\":\"LOAD needs \\\"handler\\\": "
                    + "\\\"com.example.Fn[::method]\\\"\"}", e.metadata());
            // Not a failed init: a correct LOAD still works.
            expect(a.load(Fixtures.functions(), "com.example.Upper"), InitializedFrame.class, 0);
        }
    }

    @Test
    void hooksRunBeforeSnapshotInReverseAndAfterRestoreInOrder() {
        try (InProcessAgent a = new InProcessAgent()) {
            a.ready();
            InitializedFrame init = expect(a.load(Fixtures.functions(), "com.example.Primed"),
                    InitializedFrame.class, 0);
            assertEquals(3, meta(init).get("hooks").asInt());
            assertEquals("handler-before,static-before",
                    text(expect(a.invoke(1, ""), ResultFrame.class, 1)));

            a.send(Restores.frame(1767225600000L, 32, (byte) 1));
            Frame ack = a.reply();
            assertEquals("RESTORED", ack.type().name(), ack.toString());
            assertEquals(3, meta(ack).get("hooks").asInt());
            assertFalse(meta(ack).get("clockSet").asBoolean());
            assertFalse(meta(ack).get("kernelEntropy").asBoolean());
            // This JVM has no --add-opens: host mode then writes nothing to the host's kernel
            // and says why each generator was skipped.
            assertEquals(0, meta(ack).get("reseeded").size());
            assertEquals(5, meta(ack).get("skipped").size());
            meta(ack).get("skipped").forEach(s -> assertTrue(s.asText().endsWith(
                    ": needs --add-opens java.base/sun.security.provider=ALL-UNNAMED"), s.asText()));
            assertEquals("handler-before,static-before,static-restore,handler-restore",
                    text(expect(a.invoke(2, ""), ResultFrame.class, 2)));
        }
    }

    @Test
    void failingRestoreHookIsReportedAndTheOthersStillRun() {
        try (InProcessAgent a = loaded("com.example.BadRestore")) {
            a.send(Restores.frame(1767225600000L, 32, (byte) 2));
            ErrorFrame e = a.reply(ErrorFrame.class);
            assertEquals(0, e.callId());
            assertEquals("restore_failed", meta(e).get("code").asText());
            assertEquals("java.io.IOException", meta(e).get("type").asText());
            assertEquals(2, meta(e).get("hooks").asInt());
            assertEquals("restores=1", text(expect(a.invoke(1, ""), ResultFrame.class, 1)));
        }
    }

    @Test
    void restoreWithoutEnoughEntropyIsRefused() {
        try (InProcessAgent a = loaded("com.example.Upper")) {
            a.send(Restores.frame(1767225600000L, 8, (byte) 3));
            ErrorFrame e = a.reply(ErrorFrame.class);
            assertEquals("{\"code\":\"bad_restore\",\"message\":\"RESTORED carries 8 bytes of "
                    + "entropy, at least 16 are needed\"}", e.metadata());
        }
    }
}
