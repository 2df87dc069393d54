package io.kiln.invoker.logs;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One log line as one line of JSON on disk:
 * {@code {"seq":1,"epochMs":...,"version":1,"instance":3,"callId":"","stream":"stdout","text":"..."}}
 * and a newline. The function is the directory's name, so it is not repeated.
 */
final class LogCodec {

    /** A line followed by anything else on the same line is not one of ours. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final JsonFactory FACTORY = JSON.getFactory();

    private LogCodec() {
    }

    static byte[] encode(LogLine l) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(96 + l.text().length());
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("seq", l.seq());
            g.writeNumberField("epochMs", l.epochMs());
            g.writeNumberField("version", l.version());
            g.writeNumberField("instance", l.instanceId());
            g.writeStringField("callId", l.callId());
            g.writeStringField("stream", l.stream());
            g.writeStringField("text", wellFormed(l.text()));
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        out.write('\n');
        return out.toByteArray();
    }

    /** {@code s} with every unpaired surrogate replaced, since UTF-8 cannot encode one (nor the generator). */
    static String wellFormed(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                if (b != null) {
                    b.append(c).append(s.charAt(i + 1));
                }
                i++;
            } else if (Character.isSurrogate(c)) {
                if (b == null) {
                    b = new StringBuilder(s.length()).append(s, 0, i);
                }
                b.append('\uFFFD');
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? s : b.toString();
    }

    /** The line, or null if {@code json} is not a whole line of ours (a torn write, a stray edit). */
    static LogLine decode(String function, String json) {
        try {
            JsonNode n = JSON.readTree(json);
            if (n == null || !n.isObject() || !n.path("seq").isIntegralNumber()
                    || !n.path("epochMs").isIntegralNumber() || !n.path("version").isIntegralNumber()
                    || !n.path("instance").isIntegralNumber() || !n.path("callId").isTextual()
                    || !n.path("stream").isTextual() || !n.path("text").isTextual() || n.get("seq").asLong() < 1) {
                return null;
            }
            return new LogLine(n.get("seq").asLong(), n.get("epochMs").asLong(), function, n.get("version").asLong(),
                    n.get("instance").asLong(), n.get("callId").asText(), n.get("stream").asText(),
                    n.get("text").asText());
        } catch (IOException e) {
            return null;
        }
    }
}
