package com.example.lambdacompat;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;

import java.util.LinkedHashMap;
import java.util.Map;

/** An unchanged Lambda handler: a JSON event in as a map, a map out as JSON. */
public class Greeting implements RequestHandler<Map<String, Object>, Map<String, Object>> {

    @Override
    public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
        Object name = event == null ? null : event.get("name");
        context.getLogger().log("greeting " + name);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("greeting", "Hello, " + (name == null ? "world" : name) + "!");
        out.put("function", context.getFunctionName());
        out.put("requestId", context.getAwsRequestId());
        return out;
    }
}
