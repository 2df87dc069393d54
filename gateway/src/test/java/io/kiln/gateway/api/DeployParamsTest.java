package io.kiln.gateway.api;

import io.kiln.gateway.http.ApiError;
import io.kiln.invoker.store.FunctionConfig;
import io.vertx.core.MultiMap;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DeployParamsTest {

    private static MultiMap q(String... kv) {
        MultiMap m = MultiMap.caseInsensitiveMultiMap();
        for (int i = 0; i < kv.length; i += 2) {
            m.add(kv[i], kv[i + 1]);
        }
        return m;
    }

    private static String refused(String... kv) {
        ApiError e = assertThrows(ApiError.class, () -> DeployParams.parse(q(kv)));
        assertEquals(400, e.status());
        assertEquals("bad_request", e.code());
        return e.getMessage();
    }

    @Test
    void onlyTheHandlerGivesTheDefaults() {
        assertEquals(FunctionConfig.of("com.example.Fn"), DeployParams.parse(q("handler", "com.example.Fn")));
    }

    @Test
    void everyField() {
        FunctionConfig c = DeployParams.parse(q("handler", "com.example.Fn::go", "memory", "512", "timeout", "45s",
                "keepAlive", "2m", "env", "A=1", "env", "B=x=y", "env", "C=", "maxConcurrency", "3",
                "minInstances", "12", "maxInstances", "20", "public", "true"));
        assertEquals(new FunctionConfig("com.example.Fn::go", 512, Duration.ofSeconds(45),
                Map.of("A", "1", "B", "x=y", "C", ""), 3, 12, 20, Duration.ofMinutes(2), true), c);
    }

    @Test
    void durations() {
        assertEquals(Duration.ofMillis(1500), DeployParams.duration("t", "1500"));
        assertEquals(Duration.ofMillis(500), DeployParams.duration("t", "500ms"));
        assertEquals(Duration.ofSeconds(30), DeployParams.duration("t", "30s"));
        assertEquals(Duration.ofMinutes(5), DeployParams.duration("t", "5m"));
        assertEquals(Duration.ofHours(1), DeployParams.duration("t", "1h"));
        assertThrows(ApiError.class, () -> DeployParams.duration("t", "1.5s"));
        assertThrows(ApiError.class, () -> DeployParams.duration("t", "-1"));
        assertThrows(ApiError.class, () -> DeployParams.duration("t", "5 m"));
    }

    @Test
    void mistakesAreRefusedWithTheReason() {
        assertEquals("parameter 'handler' is required, like handler=com.example.Fn", refused("memory", "256"));
        assertEquals("memory must be a whole number, got \"lots\"", refused("handler", "a.B", "memory", "lots"));
        assertEquals("memoryMib must be between 128 and 16384, got 64", refused("handler", "a.B", "memory", "64"));
        assertEquals("public must be true or false, got \"yes\"", refused("handler", "a.B", "public", "yes"));
        // The entry is not echoed: it may be a secret pasted without its name.
        assertEquals("env must be NAME=value, got an entry with no '=' (8 characters)", refused("handler", "a.B",
                "env", "NOEQUALS"));
        assertEquals("env must be NAME=value, got an entry with no name before '=' (8 characters)",
                refused("handler", "a.B", "env", "=hunter2"));
        assertEquals("env A is given more than once", refused("handler", "a.B", "env", "A=1", "env", "A=2"));
        assertEquals("parameter 'memory' is given more than once", refused("handler", "a.B", "memory", "256",
                "memory", "512"));
        assertEquals("timeout must be between 1 ms and 15 min, got 3600000 ms", refused("handler", "a.B",
                "timeout", "1h"));
        assertEquals("minInstances must be between 0 and maxInstances (2), got 3", refused("handler", "a.B",
                "minInstances", "3", "maxInstances", "2"));
        refused("handler", "a.B", "colour", "blue");
    }
}
