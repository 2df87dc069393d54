package io.kiln.gateway;

import io.kiln.agent.testing.Fixtures;
import io.kiln.gateway.testing.TestServer;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Schedules through the HTTP API on the process engine: a rate schedule's firings become calls
 * that succeed, an EventBridge-shaped one reaches an unchanged Lambda {@code ScheduledEvent}
 * handler, and a restart fires no fire time twice.
 */
class GatewaySchedulesTest {

    private static final TestServer SERVER = TestServer.process("schedules", c -> c);

    @BeforeAll
    static void deploy() {
        SERVER.ensure("echo", "com.example.Echo", "");
        Response r = SERVER.given().contentType("application/java-archive").body(Fixtures.events())
                .put("/v1/functions/scheduled-dump?handler=com.example.events.ScheduledDump&memory=256");
        assertEquals(201, r.statusCode(), r::asString);
    }

    static Response put(String name, String body) {
        return SERVER.given().contentType("application/json").body(body).put("/v1/schedules/" + name);
    }

    /** The schedule once {@code done} holds for it (polled; at most 60 s). */
    static JsonPath awaitSchedule(String name, Predicate<JsonPath> done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            JsonPath p = SERVER.given().get("/v1/schedules/" + name + "?firings=1000").then().statusCode(200)
                    .extract().jsonPath();
            if (done.test(p)) {
                return p;
            }
            assertTrue(System.nanoTime() < deadline, "schedule " + name + " did not get there in 60 s: " + p.prettify());
            Thread.sleep(50);
        }
    }

    static long succeeded(JsonPath p) {
        return p.getList("firings.callState").stream().filter("succeeded"::equals).count();
    }

    @Test
    void aRateScheduleFiresCallsThatSucceed() throws Exception {
        Response created = put("tick", "{\"function\":\"echo\",\"rate\":\"1s\",\"input\":\"tick\"}");
        assertEquals(201, created.statusCode(), created::asString);
        JsonPath c = created.jsonPath();
        assertEquals("echo", c.getString("function"));
        assertEquals("1s", c.getString("rate"));
        assertEquals("every 1s", c.getString("description"));
        assertEquals("skip", c.getString("overlap"));
        assertEquals("fire-once", c.getString("misfire"));
        assertEquals("plain", c.getString("shape"));
        assertEquals("dGljaw==", c.getString("inputBase64"));
        assertEquals(Instant.parse(c.getString("createdAt")).plusSeconds(1).getEpochSecond(),
                Instant.parse(c.getString("nextFireAt")).getEpochSecond());

        JsonPath p = awaitSchedule("tick", s -> succeeded(s) >= 2);
        Map<String, Object> firing = p.getList("firings", Map.class).stream()
                .filter(f -> "succeeded".equals(((Map<?, ?>) f).get("callState"))).findFirst().orElseThrow();
        assertEquals("enqueued", firing.get("outcome"));
        JsonPath call = SERVER.given().get("/v1/calls/" + firing.get("callId")).then().statusCode(200)
                .extract().jsonPath();
        assertEquals("succeeded", call.getString("state"));
        assertEquals("schedule:tick", call.getString("source"));
        assertEquals("tick", new String(Base64.getDecoder().decode(call.getString("result.bodyBase64")),
                StandardCharsets.UTF_8));

        SERVER.given().get("/v1/schedules").then().statusCode(200).body("schedules.name", org.hamcrest.Matchers.hasItem("tick"));
        SERVER.given().delete("/v1/schedules/tick").then().statusCode(204);
        SERVER.given().get("/v1/schedules/tick").then().statusCode(404)
                .body("error.message", equalTo("no schedule named tick"));
        SERVER.given().delete("/v1/schedules/tick").then().statusCode(404);
    }

    @Test
    void anEventBridgeShapedScheduleDeliversAScheduledEventThatALambdaHandlerBinds() throws Exception {
        Response created = put("dump", "{\"function\":\"scheduled-dump\",\"rate\":\"1s\",\"shape\":\"eventbridge\"}");
        assertEquals(201, created.statusCode(), created::asString);
        JsonPath p = awaitSchedule("dump", s -> succeeded(s) >= 1);
        SERVER.given().delete("/v1/schedules/dump").then().statusCode(204);
        Map<?, ?> firing = p.getList("firings", Map.class).stream()
                .filter(f -> "succeeded".equals(((Map<?, ?>) f).get("callState"))).findFirst().orElseThrow();
        JsonPath call = SERVER.given().get("/v1/calls/" + firing.get("callId")).then().statusCode(200)
                .extract().jsonPath();
        JsonPath bound = JsonPath.from(new String(Base64.getDecoder().decode(call.getString("result.bodyBase64")),
                StandardCharsets.UTF_8));
        // What the handler's getters return: the event as EventBridge would have sent it, its time
        // the fire time (as joda prints it).
        Instant fireTime = Instant.parse((String) firing.get("fireTime"));
        assertEquals("DateTime:" + fireTime.toString().replace("Z", ".000Z"), bound.getString("getTime"));
        assertEquals("0", bound.getString("getVersion"));
        assertEquals("Scheduled Event", bound.getString("getDetailType"));
        assertEquals("aws.events", bound.getString("getSource"));
        assertEquals("000000000000", bound.getString("getAccount"));
        assertEquals("kiln", bound.getString("getRegion"));
        assertEquals(List.of("kiln:schedule/dump"), bound.getList("getResources"));
        assertEquals(Map.of(), bound.getMap("getDetail"));
        assertTrue(bound.getString("getId").matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"),
                bound.getString("getId"));
        assertEquals(9, bound.getMap("$").size(), bound.prettify());
    }

    @Test
    void badSchedulesAreRefusedWithTheReason() {
        put("c", "{\"function\":\"echo\",\"cron\":\"0 9 * * *\"}").then().statusCode(400)
                .body("error.code", equalTo("bad_request"))
                .body("error.message", equalTo("zone: missing; a cron schedule needs an explicit IANA time zone such"
                        + " as Europe/Berlin or UTC; none is ever implied"));
        put("c", "{\"function\":\"nobody\",\"rate\":\"5m\"}").then().statusCode(404)
                .body("error.message", equalTo("no function named nobody"));
        put("c", "{\"function\":\"echo\",\"rate\":\"5m\",\"cron\":\"* * * * *\"}").then().statusCode(400)
                .body("error.message", equalTo("give exactly one of cron (with zone), rate or at; got cron and rate"));
        put("c", "{\"function\":\"echo\"}").then().statusCode(400)
                .body("error.message", equalTo("give exactly one of cron (with zone), rate or at; got none"));
        put("c", "{\"function\":\"echo\",\"rate\":\"5m\",\"overlap\":\"queue\"}").then().statusCode(400)
                .body("error.message", equalTo("overlap: \"queue\" is not an overlap policy; allowed: skip (the"
                        + " default), allow"));
        put("c", "{\"function\":\"echo\",\"cron\":\"0 9 * * *\",\"timezone\":\"UTC\"}").then().statusCode(400)
                .body("error.message", equalTo("unknown field \"timezone\"; allowed: at, cron, enabled, function,"
                        + " input, inputBase64, misfire, overlap, rate, shape, zone"));
        put("c", "{\"function\":\"echo\",\"cron\":\"0 25 * * *\",\"zone\":\"Mars/Olympus\"}").then().statusCode(400)
                .body("error.message", equalTo("zone: \"Mars/Olympus\" is not a known time zone; allowed: an IANA time"
                        + " zone id such as Europe/Berlin, America/New_York or UTC"));
        put("c", "{\"function\":\"echo\",\"at\":\"2001-01-01T00:00:00Z\"}").then().statusCode(400);
        put("c", "not json").then().statusCode(400);
        put("bad name", "{\"function\":\"echo\",\"rate\":\"5m\"}").then().statusCode(400);
        SERVER.given().get("/v1/schedules/c").then().statusCode(404);
        SERVER.anonymous().get("/v1/schedules").then().statusCode(401);
    }

    @Test
    void aRepeatedPutIsTheSameScheduleAndACronOneSaysItsZone() {
        String body = "{\"function\":\"echo\",\"cron\":\"*/5 * * * *\",\"zone\":\"Europe/Berlin\",\"misfire\":\"skip\"}";
        JsonPath first = put("berlin", body).then().statusCode(201).extract().jsonPath();
        JsonPath again = put("berlin", body).then().statusCode(200).extract().jsonPath();
        assertEquals("cron \"*/5 * * * *\" in Europe/Berlin", again.getString("description"));
        assertEquals("Europe/Berlin", again.getString("zone"));
        assertEquals("skip", again.getString("misfire"));
        assertEquals(first.getString("createdAt"), again.getString("createdAt"));
        assertEquals(first.getString("nextFireAt"), again.getString("nextFireAt"));
        assertEquals(0, Instant.parse(again.getString("nextFireAt")).getEpochSecond() % 300);
        SERVER.given().delete("/v1/schedules/berlin").then().statusCode(204);
    }

    @Test
    void aRestartFiresNoFireTimeTwice() throws Exception {
        put("steady", "{\"function\":\"echo\",\"rate\":\"1s\",\"overlap\":\"allow\",\"input\":\"x\"}").then()
                .statusCode(201);
        int before = awaitSchedule("steady", s -> succeeded(s) >= 3).getList("firings").size();
        SERVER.restart();
        JsonPath p = awaitSchedule("steady", s -> s.getList("firings").size() >= before + 3 && succeeded(s) >= 5);
        // The queue holds exactly one call per enqueued firing: nothing was enqueued twice. Both
        // counted in one transaction, since the schedule keeps firing until it is deleted.
        long[] counts = SERVER.gateway().queue().store().database().transaction(c -> new long[]{
                count(c, "SELECT COUNT(*) FROM schedule_firings WHERE schedule_name = 'steady' AND call_id IS NOT NULL"),
                count(c, "SELECT COUNT(*) FROM queue_items WHERE source = 'schedule:steady'")});
        SERVER.given().delete("/v1/schedules/steady").then().statusCode(204);
        assertEquals(counts[0], counts[1], "firings that enqueued a call, and the calls");

        List<Map> firings = p.getList("firings", Map.class);
        HashSet<Object> times = new HashSet<>();
        HashSet<Object> calls = new HashSet<>();
        long enqueued = 0;
        for (Map<?, ?> f : firings) {
            assertTrue(times.add(f.get("fireTime")), "fire time " + f.get("fireTime") + " twice");
            Instant t = Instant.parse((String) f.get("fireTime"));
            assertEquals(0, t.getNano(), "a 1s rate fires on whole seconds: " + t);
            if ("enqueued".equals(f.get("outcome"))) {
                enqueued++;
                assertNotNull(f.get("callId"));
                assertTrue(calls.add(f.get("callId")));
            }
        }
        assertTrue(enqueued <= counts[1], "every firing seen enqueued its call");
        assertTrue(enqueued >= before + 3, "fired after the restart too");
        assertTrue(Duration.between(Instant.parse((String) firings.get(firings.size() - 1).get("fireTime")),
                Instant.parse((String) firings.get(0).get("fireTime"))).toSeconds() >= firings.size() - 1);
    }

    private static long count(java.sql.Connection c, String sql) throws java.sql.SQLException {
        try (PreparedStatement s = c.prepareStatement(sql); ResultSet r = s.executeQuery()) {
            r.next();
            return r.getLong(1);
        }
    }
}
