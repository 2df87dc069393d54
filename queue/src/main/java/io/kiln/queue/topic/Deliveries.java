package io.kiln.queue.topic;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * What a subscription's function receives, as the queue item's input.
 *
 * <ul>
 *   <li>{@link Shape#PLAIN}: the event in CloudEvents' JSON format (structured mode): its
 *       attributes, and {@code data} inlined when it is JSON, a string when it is text, else
 *       {@code data_base64}.</li>
 *   <li>{@link Shape#SQS}: an AWS {@code SQSEvent}, {@code {"Records": [...]}}, one record per
 *       event. A record's {@code body} is the event's data as text (base64 when it is not
 *       UTF-8, and then the message attribute {@code kiln-body-encoding} says so); the event's
 *       attributes are the record's message attributes {@code ce-<name>}.</li>
 * </ul>
 */
public final class Deliveries {

    private Deliveries() {
    }

    // ---- plain ---------------------------------------------------------------------------

    public static byte[] plain(CloudEvent e) {
        ObjectNode o = Filter.MAPPER.createObjectNode();
        e.attributes().forEach(o::put);
        if (e.data() != null) {
            String text = utf8(e.data());
            if (e.jsonData()) {
                // As stored (compact, checked JSON): not parsed again, so not a digit changes.
                o.putRawValue("data", new com.fasterxml.jackson.databind.util.RawValue(text));
            } else if (text != null && textual(e.dataContentType())) {
                o.put("data", text);
            } else {
                o.put("data_base64", Base64.getEncoder().encodeToString(e.data()));
            }
        }
        return bytes(o);
    }

    /** Text data: {@code text/*}, and JSON or XML media types. */
    private static boolean textual(String contentType) {
        if (contentType == null) {
            return false;
        }
        String t = contentType.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
        return t.startsWith("text/") || CloudEvent.isJson(t) || t.equals("application/xml") || t.endsWith("+xml");
    }

    // ---- SQS -----------------------------------------------------------------------------

    /** The queue's ARN as records name it: {@code arn:kiln:sqs:local:0:<topic>}. */
    public static String arn(String topic) {
        return "arn:kiln:sqs:local:0:" + topic;
    }

    /** One SQS record for {@code e}, sent at {@code sentAt} (epoch ms) through {@code s}. */
    public static ObjectNode sqsRecord(CloudEvent e, Subscription s, long sentAt) {
        String messageId = UUID.randomUUID().toString();
        String body;
        boolean base64 = false;
        if (e.data() == null) {
            body = "";
        } else {
            body = utf8(e.data());
            if (body == null) {
                body = Base64.getEncoder().encodeToString(e.data());
                base64 = true;
            }
        }
        ObjectNode r = Filter.MAPPER.createObjectNode();
        r.put("messageId", messageId);
        r.put("receiptHandle", s.topic() + "/" + s.name() + "/" + messageId);
        r.put("body", body);
        r.putObject("attributes").put("ApproximateReceiveCount", "1").put("SentTimestamp", String.valueOf(sentAt))
                .put("SenderId", "kiln").put("ApproximateFirstReceiveTimestamp", String.valueOf(sentAt));
        ObjectNode attrs = r.putObject("messageAttributes");
        e.attributes().forEach((k, v) -> stringAttribute(attrs, "ce-" + k, v));
        if (base64) {
            stringAttribute(attrs, "kiln-body-encoding", "base64");
        }
        r.put("md5OfBody", md5(body));
        r.put("eventSource", "aws:sqs");
        r.put("eventSourceARN", arn(s.topic()));
        r.put("awsRegion", "local");
        return r;
    }

    private static void stringAttribute(ObjectNode attrs, String name, String value) {
        ObjectNode a = attrs.putObject(name);
        a.put("stringValue", value);
        a.putArray("stringListValues");
        a.putArray("binaryListValues");
        a.put("dataType", "String");
    }

    /** A batch of one record. */
    public static byte[] sqsBatch(ObjectNode record) {
        ObjectNode o = Filter.MAPPER.createObjectNode();
        o.putArray("Records").add(record);
        return bytes(o);
    }

    /** {@code batch} with {@code record} added at its end. */
    public static byte[] sqsAppend(byte[] batch, ObjectNode record) {
        ObjectNode o = sqsEvent(batch);
        ((ArrayNode) o.get("Records")).add(record);
        return bytes(o);
    }

    /** How many records {@code batch} holds. */
    public static int sqsSize(byte[] batch) {
        return sqsEvent(batch).get("Records").size();
    }

    /** The records' message ids, in order. */
    public static List<String> sqsMessageIds(byte[] batch) {
        List<String> out = new ArrayList<>();
        for (JsonNode r : sqsEvent(batch).get("Records")) {
            out.add(r.path("messageId").asText());
        }
        return out;
    }

    /**
     * The batch with only the records named in {@code keep}, each received once more (its
     * {@code ApproximateReceiveCount} plus one): the retry of a partly failed batch.
     */
    public static byte[] sqsKeep(byte[] batch, Set<String> keep) {
        ObjectNode o = sqsEvent(batch);
        ArrayNode kept = Filter.MAPPER.createArrayNode();
        for (JsonNode r : o.get("Records")) {
            if (keep.contains(r.path("messageId").asText())) {
                ObjectNode attributes = (ObjectNode) r.get("attributes");
                int count = Integer.parseInt(attributes.path("ApproximateReceiveCount").asText("1"));
                attributes.put("ApproximateReceiveCount", String.valueOf(count + 1));
                kept.add(r);
            }
        }
        o.set("Records", kept);
        return bytes(o);
    }

    /** True when {@code input} is an SQS batch as {@link #sqsBatch} makes it: {@code {"Records": [...]}}. */
    public static boolean isSqsBatch(byte[] input) {
        try {
            JsonNode t = Filter.MAPPER.readTree(input);
            return t != null && t.isObject() && t.size() == 1 && t.path("Records").isArray();
        } catch (IOException e) {
            return false;
        }
    }

    private static ObjectNode sqsEvent(byte[] batch) {
        JsonNode t = tree(batch);
        if (!(t instanceof ObjectNode o) || !o.path("Records").isArray()) {
            throw new IllegalStateException("a stored SQS batch is not {\"Records\": [...]}");
        }
        return o;
    }

    // ---- JSON ----------------------------------------------------------------------------

    private static JsonNode tree(byte[] json) {
        try {
            return Filter.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException("stored JSON is unreadable", e);
        }
    }

    private static byte[] bytes(JsonNode o) {
        try {
            return Filter.MAPPER.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The bytes as a string if they are valid UTF-8, else null. */
    static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static String md5(String body) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(body.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is part of every JRE", e);
        }
    }
}
