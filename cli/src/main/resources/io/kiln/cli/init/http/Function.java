package {{package}};

import io.kiln.function.Context;
import io.kiln.function.Handler;
import io.kiln.function.HttpRequest;
import io.kiln.function.HttpResponse;

/** HTTP in, HTTP out: GET /?name=Ada is answered with 200 and "Hello, Ada!"; any other path with 404. */
public class {{class}} implements Handler<HttpRequest, HttpResponse> {

    @Override
    public HttpResponse handle(HttpRequest request, Context context) {
        if (!request.path().equals("/")) {
            return HttpResponse.text(404, "Nothing at " + request.path());
        }
        String name = request.queryParameter("name").orElse("world");
        context.logger().log(request.method() + " " + request.path() + " for " + name);
        return HttpResponse.ok("Hello, " + name + "!");
    }
}
