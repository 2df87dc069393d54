package io.kiln.testkit;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import io.kiln.function.Context;
import io.kiln.function.Handler;
import io.kiln.function.HttpRequest;
import io.kiln.function.HttpResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The test kit against handlers of every kind; the answers are what the agent's call path gives. */
class FunctionTesterTest {

    public record Person(String name, int age) {
    }

    public record Greeting(String message, boolean adult) {
    }

    public static final class Greeter implements Handler<Person, Greeting> {
        @Override
        public Greeting handle(Person p, Context ctx) {
            ctx.logger().log("greeting " + p.name());
            return new Greeting("Hello, " + p.name() + " from " + ctx.functionName() + " ("
                    + ctx.environment().get("PLACE") + ")", p.age() >= 18);
        }
    }

    public static final class Text implements Handler<String, String> {
        @Override
        public String handle(String in, Context ctx) {
            return in.toUpperCase();
        }
    }

    public static final class Http implements Handler<HttpRequest, HttpResponse> {
        @Override
        public HttpResponse handle(HttpRequest r, Context ctx) {
            return HttpResponse.builder(r.path().equals("/missing") ? 404 : 201)
                    .header("X-Method", r.method())
                    .header("X-Query", r.queryParameter("q").orElse("-"))
                    .header("Content-Type", "text/plain")
                    .body(r.header("X-Who").orElse("nobody") + ":" + r.bodyAsString())
                    .build();
        }
    }

    public static final class Lambda implements RequestHandler<Map<String, String>, String> {
        @Override
        public String handleRequest(Map<String, String> in, com.amazonaws.services.lambda.runtime.Context ctx) {
            ctx.getLogger().log("lambda " + in.get("name"));
            return in.get("name") + " in " + ctx.getFunctionName() + " with " + ctx.getMemoryLimitInMB() + " MB, call "
                    + ctx.getAwsRequestId();
        }
    }

    public static final class Boom implements Handler<String, String> {
        @Override
        public String handle(String in, Context ctx) {
            throw new IllegalStateException("boom: " + in);
        }
    }

    public static final class Unserialisable implements Handler<String, Object> {
        @Override
        public Object handle(String in, Context ctx) {
            return new Object() {
                @SuppressWarnings("unused")
                public Object getSelf() {
                    return this;
                }
            };
        }
    }

    public static final class BadConstructor implements Handler<String, String> {
        public BadConstructor() {
            throw new IllegalArgumentException("no config");
        }

        @Override
        public String handle(String in, Context ctx) {
            return in;
        }
    }

    public static final class NotAHandler {
    }

    @Test
    void jsonInJsonOutWithTheContextAndItsLogs() {
        FunctionTester fn = FunctionTester.builder(Greeter.class).name("greeter").env("PLACE", "Lyon").build();
        Result r = fn.call("{\"name\":\"Ada\",\"age\":36}");
        assertTrue(r.ok(), r.toString());
        assertEquals(200, r.status());
        assertEquals("application/json", r.contentType());
        assertEquals("{\"message\":\"Hello, Ada from greeter (Lyon)\",\"adult\":true}", r.bodyText());
        assertEquals(List.of("greeting Ada"), r.logs());
        assertEquals("{\"message\":\"Hello, Bo from greeter (Lyon)\",\"adult\":false}",
                fn.call("{\"name\":\"Bo\",\"age\":9}").bodyText());
        assertEquals(FunctionTesterTest.class.getName() + "$Person", fn.inputType());
    }

    @Test
    void badJsonIsBadInputAsOnThePlatform() {
        Result r = FunctionTester.of(Greeter.class).call("{\"name\":");
        assertFalse(r.ok());
        assertEquals("bad_input", r.error().code());
        assertTrue(r.error().message().startsWith("input does not bind to "), r.error().message());
        IllegalStateException e = assertThrows(IllegalStateException.class, r::status);
        assertTrue(e.getMessage().contains("bad_input"), e.getMessage());
    }

    @Test
    void aStringIsTheRawBodyAndComesBackAsText() {
        Result r = FunctionTester.of(Text.class).call("\"quoted\" ada");
        assertEquals("\"QUOTED\" ADA", r.bodyText());
        assertEquals("text/plain; charset=utf-8", r.contentType());
    }

    @Test
    void httpRequestAndResponseMapLikeTheGateway() {
        FunctionTester fn = FunctionTester.of(Http.class.getName());
        Result r = fn.call(HttpRequest.builder().method("PUT").path("/items/7").query("q=a%20b")
                .header("X-Who", "ada").body("hi").build());
        assertEquals(201, r.status());
        assertEquals("PUT", r.headers().first("X-Method").orElseThrow());
        assertEquals("a b", r.headers().first("X-Query").orElseThrow());
        assertEquals("text/plain", r.contentType());
        assertEquals("ada:hi", r.bodyText());
        assertEquals(404, fn.call(HttpRequest.of("GET", "/missing")).status());
    }

    @Test
    void lambdaHandlersGetLambdaSemanticsAndContext() {
        FunctionTester fn = FunctionTester.builder(Lambda.class).name("lam").memoryMb(512).build();
        Result r = fn.call("{\"name\":\"Ada\"}");
        assertEquals("\"Ada in lam with 512 MB, call 0000000000000001\"", r.bodyText(),
                "a Lambda String result is JSON, as on Lambda");
        assertEquals("\"Bo in lam with 512 MB, call 0000000000000002\"", fn.call("{\"name\":\"Bo\"}").bodyText());
        assertEquals("application/json", r.contentType());
        assertEquals(List.of("lambda Ada"), r.logs());
    }

    @Test
    void aThrowingHandlerIsAFunctionErrorWithItsType() {
        Result r = FunctionTester.of(Boom.class).call("x");
        assertEquals(new Result.Error("function_error", "boom: x", "java.lang.IllegalStateException"), r.error());
        assertArrayEquals(new byte[0], r.body());
        assertEquals(List.of(), r.logs());
    }

    @Test
    void anUnwritableResultIsBadOutput() {
        Result r = FunctionTester.of(Unserialisable.class).call("x");
        assertEquals("bad_output", r.error().code());
        assertNull(r.error().type());
    }

    @Test
    void initFailuresNameTheirPhase() {
        InitFailedException construct = assertThrows(InitFailedException.class,
                () -> FunctionTester.of(BadConstructor.class));
        assertEquals("construct", construct.phase());
        assertEquals("no config", construct.getCause().getMessage());

        InitFailedException handler = assertThrows(InitFailedException.class,
                () -> FunctionTester.of(NotAHandler.class));
        assertEquals("handler", handler.phase());

        InitFailedException missing = assertThrows(InitFailedException.class,
                () -> FunctionTester.of("com.example.Nope"));
        assertEquals("load", missing.phase());
        assertEquals("handler class com.example.Nope not found in the jar", missing.getMessage());
    }
}
