package com.example.batch;

import io.kiln.agent.testing.AgentProcess;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.kiln.agent.testing.AgentSession.expect;
import static io.kiln.agent.testing.AgentSession.meta;
import static io.kiln.agent.testing.AgentSession.text;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * target/batch.jar in the real agent, called with rows as a batch job sends them (a CSV row as
 * a JSON object of strings). Expected values worked out by hand from the formulas.
 */
class EnrichReadingIT {

    @Test
    void readingsAreConvertedAndEnrichedAndFaultyOnesSayWhatIsWrong() throws Exception {
        try (AgentProcess a = AgentProcess.start()) {
            a.ready();
            byte[] jar = Files.readAllBytes(Path.of(System.getProperty("kiln.example.jar")));
            expect(a.load(jar, "com.example.batch.EnrichReading"), InitializedFrame.class, 0);

            // Hot and dry: it feels like what it is.
            ResultFrame dry = expect(a.invoke(1, "{\"station\":\"KPHX\",\"time\":\"2026-07-01T00:00:00Z\","
                    + "\"tempF\":\"105.6\",\"humidity\":\"18\",\"windMph\":\"10.9\"}"), ResultFrame.class, 1);
            assertEquals("{\"station\":\"KPHX\",\"time\":\"2026-07-01T00:00:00Z\",\"tempC\":40.9,\"humidity\":18,"
                    + "\"windKph\":17.5,\"dewPointC\":11.9,\"feelsLikeC\":40.9,\"comfort\":\"comfortable\"}", text(dry));

            // Hot and humid: the heat index.
            ResultFrame humid = expect(a.invoke(2, "{\"station\":\"KMIA\",\"time\":\"2026-07-01T18:00:00Z\","
                    + "\"tempF\":\"88.0\",\"humidity\":\"70\",\"windMph\":\"8.0\"}"), ResultFrame.class, 2);
            assertEquals("{\"station\":\"KMIA\",\"time\":\"2026-07-01T18:00:00Z\",\"tempC\":31.1,\"humidity\":70,"
                    + "\"windKph\":12.9,\"dewPointC\":25.0,\"feelsLikeC\":37.9,\"comfort\":\"oppressive\"}",
                    text(humid));

            // Cold and windy: the wind chill.
            ResultFrame cold = expect(a.invoke(3, "{\"station\":\"KDEN\",\"time\":\"2026-07-02T10:00:00Z\","
                    + "\"tempF\":\"40\",\"humidity\":\"80\",\"windMph\":\"15\"}"), ResultFrame.class, 3);
            assertEquals("{\"station\":\"KDEN\",\"time\":\"2026-07-02T10:00:00Z\",\"tempC\":4.4,\"humidity\":80,"
                    + "\"windKph\":24.1,\"dewPointC\":1.3,\"feelsLikeC\":-0.1,\"comfort\":\"dry\"}", text(cold));

            ErrorFrame err = expect(a.invoke(4, "{\"station\":\"KSEA\",\"time\":\"2026-07-01T00:00:00Z\","
                    + "\"tempF\":\"ERR\",\"humidity\":\"50\",\"windMph\":\"3\"}"), ErrorFrame.class, 4);
            assertEquals("function_error", meta(err).get("code").asText());
            assertEquals("tempF is not a number: \"ERR\"", meta(err).get("message").asText());

            ErrorFrame range = expect(a.invoke(5, "{\"station\":\"KSEA\",\"time\":\"2026-07-01T00:00:00Z\","
                    + "\"tempF\":\"60\",\"humidity\":\"104\",\"windMph\":\"3\"}"), ErrorFrame.class, 5);
            assertEquals("humidity 104 is out of range (0 to 100)", meta(range).get("message").asText());
        }
    }
}
