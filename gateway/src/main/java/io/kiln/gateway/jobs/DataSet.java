package io.kiln.gateway.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.http.ApiError;
import io.kiln.gateway.http.Json;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A batch job's data set, read into records (each one JSON value) and cut into the groups that
 * calls receive. JSON Lines: every non-blank line is one JSON value. CSV: the first record is
 * the header, and every other record becomes a JSON object of header → value (values stay
 * strings: CSV does not say what is a number).
 */
public final class DataSet {

    /** Largest data set, uploaded or read from a file: 256 MiB. */
    public static final long MAX_BYTES = 256L << 20;
    public static final int MAX_RECORDS = 1_000_000;

    private static final ObjectReader STRICT = Json.MAPPER.reader()
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    public enum Format {
        JSONL, CSV;

        /** {@code jsonl} (or {@code ndjson}) and {@code csv}. */
        public static Format of(String name) {
            return switch (name == null ? "" : name.strip().toLowerCase(Locale.ROOT)) {
                case "jsonl", "ndjson" -> JSONL;
                case "csv" -> CSV;
                default -> throw ApiError.badRequest("format must be jsonl or csv, got \"" + name + "\"");
            };
        }

        /** By a file's extension: .jsonl, .ndjson or .csv. */
        public static Format ofFile(String path) {
            String p = path.toLowerCase(Locale.ROOT);
            if (p.endsWith(".jsonl") || p.endsWith(".ndjson")) {
                return JSONL;
            }
            if (p.endsWith(".csv")) {
                return CSV;
            }
            throw ApiError.badRequest("cannot tell the format of \"" + path + "\" by its name: give input.format"
                    + " (jsonl or csv), or name it .jsonl, .ndjson or .csv");
        }
    }

    private DataSet() {
    }

    /** Each record as compact JSON, in order. */
    public static List<byte[]> records(Format format, byte[] data) {
        List<byte[]> out = format == Format.JSONL ? jsonLines(data) : csv(data);
        if (out.isEmpty()) {
            throw ApiError.badRequest("the data set has no records");
        }
        return out;
    }

    private static List<byte[]> jsonLines(byte[] data) {
        List<byte[]> out = new ArrayList<>();
        int line = 0;
        int start = 0;
        while (start < data.length) {
            int end = start;
            while (end < data.length && data[end] != '\n') {
                end++;
            }
            line++;
            if (!blank(data, start, end)) {
                JsonNode value;
                try {
                    value = STRICT.readTree(data, start, end - start);
                } catch (IOException e) {
                    throw ApiError.badRequest("line " + line + " of the JSON Lines data set is not valid JSON");
                }
                add(out, value);
            }
            start = end + 1;
        }
        return out;
    }

    private static boolean blank(byte[] data, int from, int to) {
        for (int i = from; i < to; i++) {
            byte b = data[i];
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    private static List<byte[]> csv(byte[] data) {
        List<Csv.Row> rows = Csv.parse(new String(data, StandardCharsets.UTF_8));
        if (rows.isEmpty()) {
            throw ApiError.badRequest("the CSV data set has no header line");
        }
        List<String> header = rows.get(0).fields();
        Set<String> seen = new HashSet<>();
        for (String h : header) {
            if (h.isEmpty()) {
                throw ApiError.badRequest("the CSV header has an empty column name");
            }
            if (!seen.add(h)) {
                throw ApiError.badRequest("the CSV header names column \"" + h + "\" twice");
            }
        }
        List<byte[]> out = new ArrayList<>(rows.size() - 1);
        for (Csv.Row row : rows.subList(1, rows.size())) {
            if (row.fields().size() != header.size()) {
                throw ApiError.badRequest("CSV line " + row.line() + " has " + row.fields().size()
                        + " fields; the header has " + header.size());
            }
            ObjectNode o = Json.object();
            for (int i = 0; i < header.size(); i++) {
                o.put(header.get(i), row.fields().get(i));
            }
            add(out, o);
        }
        return out;
    }

    private static void add(List<byte[]> out, JsonNode value) {
        if (out.size() == MAX_RECORDS) {
            throw ApiError.badRequest("the data set has more than " + MAX_RECORDS + " records");
        }
        try {
            out.add(Json.MAPPER.writeValueAsBytes(value));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * What each call receives: with {@code perCall} 1 the record itself, with more a JSON array
     * of up to {@code perCall} records, in order.
     */
    public static List<byte[]> groups(List<byte[]> records, int perCall) {
        if (perCall == 1) {
            return records;
        }
        List<byte[]> out = new ArrayList<>((records.size() + perCall - 1) / perCall);
        for (int from = 0; from < records.size(); from += perCall) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.write('[');
            for (int i = from; i < Math.min(records.size(), from + perCall); i++) {
                if (i > from) {
                    b.write(',');
                }
                b.writeBytes(records.get(i));
            }
            b.write(']');
            out.add(b.toByteArray());
        }
        return out;
    }
}
