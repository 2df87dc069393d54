package io.kiln.gateway;

import io.kiln.gateway.testing.TestServer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** HTTP is served on one event loop per core, all on the one port the gateway reports. */
class GatewayEventLoopsTest {

    @Test
    void oneServerPerCoreShareThePort() throws Exception {
        TestServer server = TestServer.process("plain", c -> c);
        assertEquals(Math.max(1, Runtime.getRuntime().availableProcessors()), server.gateway().eventLoops());
        // Connections go to the servers in turn: each of several fresh connections is answered.
        for (int i = 0; i < 2 * server.gateway().eventLoops(); i++) {
            server.anonymous().header("Connection", "close").get("/healthz").then().statusCode(200);
        }
    }
}
