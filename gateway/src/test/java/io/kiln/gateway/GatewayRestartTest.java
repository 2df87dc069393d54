package io.kiln.gateway;

import io.kiln.gateway.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;

import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** A restart on the same data directory keeps the functions and the token (the real engine). */
class GatewayRestartTest {

    private static final TestServer SERVER = TestServer.vm();

    @Test
    void aSecondServerOnTheSameDataDirKeepsFunctionsAndToken() throws Exception {
        SERVER.ensure("greeter", "com.example.Greeter", "");
        Path tokenFile = SERVER.dataDir().resolve("token");
        byte[] tokenBefore = Files.readAllBytes(tokenFile);
        FileTime modifiedBefore = Files.getLastModifiedTime(tokenFile);
        String tokenValue = SERVER.token();
        List<String> before = SERVER.given().get("/v1/functions").jsonPath().getList("functions.name");
        String sha = SERVER.given().get("/v1/functions/greeter").jsonPath().getString("jar.sha256");
        String oldUrl = SERVER.url();

        SERVER.restart();

        assertNotEquals(oldUrl, SERVER.url(), "a new server (a new port)");
        assertArrayEquals(tokenBefore, Files.readAllBytes(tokenFile), "the token file is unchanged");
        assertEquals(modifiedBefore, Files.getLastModifiedTime(tokenFile));
        assertEquals(tokenValue, SERVER.token());
        assertEquals(false, SERVER.gateway().token().created());
        SERVER.given().get("/v1/functions").then().statusCode(200).body("functions.name", equalTo(before));
        SERVER.given().get("/v1/functions/greeter").then().statusCode(200).body("jar.sha256", equalTo(sha))
                .body("versions.version", hasItem(1));
        // Its first call is a restore from the snapshot made before the restart.
        SERVER.given().contentType("application/json").body("{\"name\":\"Again\",\"age\":20}").post("/function/greeter")
                .then().statusCode(200).header("X-Kiln-Start", "cold")
                .body("message", equalTo("Hello, Again"));
    }
}
