package io.kiln.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kiln.gateway.api.HealthApi;
import io.kiln.gateway.testing.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import org.junit.jupiter.api.Test;

import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The OpenAPI document describes exactly the routes the Router serves, method by method. */
class GatewayOpenApiTest {

    /** What "any method" means in the document. */
    static final List<String> ANY = List.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

    @Test
    void everyRouteIsDocumentedAndEveryDocumentedOperationIsRouted() throws Exception {
        TestServer server = TestServer.process("plain", c -> c);
        Set<String> routed = new TreeSet<>();
        for (Route r : server.gateway().router().getRoutes()) {
            if (r.getPath() == null) {
                continue; // handlers for every request (timing, failures), not routes
            }
            String path = template(r);
            assertEquals(path, r.getName(), "a route is named by its template (the metrics' route label)");
            Set<HttpMethod> methods = r.methods();
            if (methods == null || methods.isEmpty()) {
                for (String m : ANY) {
                    routed.add(m.toUpperCase(Locale.ROOT) + " " + path);
                }
            } else {
                for (HttpMethod m : methods) {
                    routed.add(m.name() + " " + path);
                }
            }
        }
        JsonNode doc = new ObjectMapper().readTree(HealthApi.openapiDocument());
        Set<String> documented = new TreeSet<>();
        for (Iterator<String> paths = doc.get("paths").fieldNames(); paths.hasNext(); ) {
            String path = paths.next();
            for (Iterator<String> ops = doc.get("paths").get(path).fieldNames(); ops.hasNext(); ) {
                String op = ops.next();
                assertTrue(ANY.contains(op), "not an operation: " + op + " on " + path);
                documented.add(op.toUpperCase(Locale.ROOT) + " " + path);
            }
        }
        assertEquals(routed, documented);
        // And the server serves that very document.
        String served = server.anonymous().get("/openapi.json").then().statusCode(200).extract().asString();
        assertEquals(doc, new ObjectMapper().readTree(served));
    }

    /** {@code /v1/functions/:name} → {@code /v1/functions/{name}}; a trailing wildcard is {@code {path}}. */
    static String template(Route r) {
        String p = r.getPath().replaceAll(":([A-Za-z0-9_]+)", "{$1}");
        if (!r.isExactPath()) {
            p = (p.endsWith("/") ? p : p + "/") + "{path}";
        }
        return p;
    }
}
