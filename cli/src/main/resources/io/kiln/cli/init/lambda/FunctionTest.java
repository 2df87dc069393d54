package {{package}};

import io.kiln.testkit.FunctionTester;
import io.kiln.testkit.Result;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class {{class}}Test {

    private final FunctionTester function = FunctionTester.of({{class}}.class);

    @Test
    void greetsByNameWithLambdaSemantics() {
        Result r = function.call("{\"name\":\"Ada\"}");
        assertEquals(200, r.status());
        assertEquals("application/json", r.contentType());
        assertEquals("\"Hello, Ada!\"", r.bodyText());
        assertEquals(List.of("greeting Ada"), r.logs());
    }
}
