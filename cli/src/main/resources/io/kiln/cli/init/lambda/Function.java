package {{package}};

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;

import java.util.Map;

/**
 * An AWS Lambda handler, unchanged: Kiln runs it with Lambda's semantics, so {"name":"Ada"} is
 * answered with the JSON string "Hello, Ada!".
 */
public class {{class}} implements RequestHandler<Map<String, String>, String> {

    @Override
    public String handleRequest(Map<String, String> input, Context context) {
        String name = input == null ? "world" : input.getOrDefault("name", "world");
        context.getLogger().log("greeting " + name);
        return "Hello, " + name + "!";
    }
}
