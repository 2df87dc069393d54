package io.kiln.gateway;

import io.kiln.gateway.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.hamcrest.Matchers.equalTo;

/** A server started without --jobs-input-dir refuses file inputs, and says how to do without. */
class GatewayJobsNoInputDirTest {

    private static final TestServer SERVER = TestServer.process("jobs-no-dir", c -> c);

    @Test
    void fileInputsAreRefused() {
        SERVER.ensure("echo", "com.example.Echo", "");
        SERVER.given().contentType("application/json")
                .body(Map.of("function", "echo", "input", Map.of("file", "data.jsonl")))
                .post("/v1/jobs").then().statusCode(400)
                .body("error.message", equalTo("file inputs are off: the server was started without"
                        + " --jobs-input-dir (KILN_JOBS_INPUT_DIR); upload the data set instead"));
    }
}
