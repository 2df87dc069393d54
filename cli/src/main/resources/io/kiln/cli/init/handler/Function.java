package {{package}};

import io.kiln.function.Context;
import io.kiln.function.Handler;

/** JSON in, JSON out: {"name":"Ada"} is answered with {"message":"Hello, Ada!"}. */
public class {{class}} implements Handler<{{class}}.Request, {{class}}.Response> {

    /** The request body, bound from JSON (unknown fields are ignored). */
    public record Request(String name) {
    }

    /** The answer, written as JSON. */
    public record Response(String message) {
    }

    @Override
    public Response handle(Request request, Context context) {
        String name = request == null || request.name() == null ? "world" : request.name();
        context.logger().log("greeting " + name);
        return new Response("Hello, " + name + "!");
    }
}
