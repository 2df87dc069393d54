package io.kiln.invoker.instance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.protocol.ErrorFrame;

import java.io.IOException;
import java.util.Set;

/**
 * An ERROR frame from an agent, parsed. The metadata is guest-controlled: a frame without a
 * usable code or message still yields one ({@code agent_error}), never an exception.
 *
 * @param details the whole metadata object ({@code type}, {@code stack}, {@code phase}, ...)
 */
public record AgentError(String code, String message, ObjectNode details) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Codes after which the instance is still clean and may serve again (docs/PROTOCOL.md §4:
     * "serving"). After any other code the instance is destroyed.
     */
    private static final Set<String> SERVING = Set.of("function_error", "bad_input", "bad_output",
            "result_too_large");

    public static AgentError of(ErrorFrame frame) {
        ObjectNode meta;
        try {
            JsonNode node = JSON.readTree(frame.metadata().isEmpty() ? "{}" : frame.metadata());
            meta = node instanceof ObjectNode o ? o : JSON.createObjectNode();
        } catch (IOException e) {
            meta = JSON.createObjectNode();
        }
        JsonNode code = meta.get("code");
        JsonNode message = meta.get("message");
        return new AgentError(code != null && code.isTextual() ? code.asText() : "agent_error",
                message != null && message.isTextual() ? message.asText() : "the agent reported an error",
                meta);
    }

    /** Whether the instance that sent this may take another call. */
    public boolean instanceReusable() {
        return SERVING.contains(code);
    }
}
