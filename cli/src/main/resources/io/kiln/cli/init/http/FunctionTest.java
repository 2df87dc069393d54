package {{package}};

import io.kiln.function.HttpRequest;
import io.kiln.testkit.FunctionTester;
import io.kiln.testkit.Result;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class {{class}}Test {

    private final FunctionTester function = FunctionTester.of({{class}}.class);

    @Test
    void greetsTheNameInTheQuery() {
        Result r = function.call(HttpRequest.builder().method("GET").path("/").query("name=Ada").build());
        assertEquals(200, r.status());
        assertEquals("text/plain; charset=utf-8", r.contentType());
        assertEquals("Hello, Ada!", r.bodyText());
        assertEquals(List.of("GET / for Ada"), r.logs());
    }

    @Test
    void otherPathsAreNotFound() {
        Result r = function.call(HttpRequest.of("GET", "/elsewhere"));
        assertEquals(404, r.status());
        assertEquals("Nothing at /elsewhere", r.bodyText());
    }
}
