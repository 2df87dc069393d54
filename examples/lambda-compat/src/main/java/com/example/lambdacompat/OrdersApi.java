package com.example.lambdacompat;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;

import java.util.Map;

/**
 * An unchanged API Gateway (REST API, Lambda proxy integration) handler: {@code /orders/{id}}
 * answers the order as JSON, anything else 404.
 */
public class OrdersApi implements RequestHandler<APIGatewayProxyRequestEvent,
        APIGatewayProxyResponseEvent> {

    @Override
    public APIGatewayProxyResponseEvent handleRequest(APIGatewayProxyRequestEvent request,
                                                      Context context) {
        String path = request.getPath();
        context.getLogger().log(request.getHttpMethod() + " " + path);
        if (path == null || !path.matches("/orders/[^/]+")) {
            return new APIGatewayProxyResponseEvent().withStatusCode(404)
                    .withHeaders(Map.of("Content-Type", "text/plain"))
                    .withBody("no route for " + path + "\n");
        }
        Map<String, String> query = request.getQueryStringParameters();
        String json = "{\"order\":" + quote(path.substring("/orders/".length()))
                + ",\"method\":" + quote(request.getHttpMethod())
                + ",\"q\":" + quote(query == null ? null : query.get("q"))
                + ",\"body\":" + quote(request.getBody())
                + ",\"requestId\":" + quote(request.getRequestContext().getRequestId()) + "}";
        return new APIGatewayProxyResponseEvent().withStatusCode(200)
                .withHeaders(Map.of("Content-Type", "application/json"))
                .withBody(json);
    }

    private static String quote(String s) {
        if (s == null) {
            return "null";
        }
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
