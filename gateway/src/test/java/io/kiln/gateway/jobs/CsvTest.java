package io.kiln.gateway.jobs;

import io.kiln.gateway.http.ApiError;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The RFC 4180 reader and the data sets it feeds, at their edges. */
class CsvTest {

    static List<List<String>> rows(String text) {
        return Csv.parse(text).stream().map(Csv.Row::fields).toList();
    }

    @Test
    void recordsEndAtLfCrlfOrCrAndTheLastNeedsNoLineBreak() {
        assertEquals(List.of(List.of("a", "b"), List.of("1", "2"), List.of("3", "4"), List.of("5", "6")),
                rows("a,b\n1,2\r\n3,4\r5,6"));
    }

    @Test
    void quotedFieldsHoldSeparatorsLineBreaksAndDoubledQuotes() {
        List<Csv.Row> r = Csv.parse("h1,h2\n\"x,y\",\"line1\r\nline2\"\n\"\",\"say \"\"hi\"\"\"\nlast,row\n");
        assertEquals(List.of("x,y", "line1\r\nline2"), r.get(1).fields());
        assertEquals(List.of("", "say \"hi\""), r.get(2).fields());
        assertEquals(5, r.get(3).line(), "the line a record starts on counts the breaks inside quotes");
    }

    @Test
    void emptyFieldsAreKeptAndBlankLinesAndAByteOrderMarkAreNot() {
        assertEquals(List.of(List.of("a", "b", "c"), List.of("", "", "")), rows("\uFEFFa,b,c\n\n,,\n\n"));
    }

    @Test
    void whatRfc4180DoesNotAllowIsRefusedWithItsLine() {
        assertEquals("CSV line 2: text after a quoted field's closing quote",
                assertThrows(ApiError.class, () -> Csv.parse("a\n\"x\"y\n")).getMessage());
        assertEquals("CSV line 3: a quoted field is not closed",
                assertThrows(ApiError.class, () -> Csv.parse("a\nb\n\"open\n\n")).getMessage());
    }

    @Test
    void csvRowsBecomeObjectsOfStringsAndGroupsAreArrays() {
        List<byte[]> records = DataSet.records(DataSet.Format.CSV,
                "n,v\nx,1\ny,2\nz,3\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of("{\"n\":\"x\",\"v\":\"1\"}", "{\"n\":\"y\",\"v\":\"2\"}", "{\"n\":\"z\",\"v\":\"3\"}"),
                records.stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList());
        assertEquals(List.of("[{\"n\":\"x\",\"v\":\"1\"},{\"n\":\"y\",\"v\":\"2\"}]", "[{\"n\":\"z\",\"v\":\"3\"}]"),
                DataSet.groups(records, 2).stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList());
        assertEquals("the CSV data set has no header line", assertThrows(ApiError.class,
                () -> DataSet.records(DataSet.Format.CSV, "\n\n".getBytes(StandardCharsets.UTF_8))).getMessage());
        assertEquals("the data set has no records", assertThrows(ApiError.class,
                () -> DataSet.records(DataSet.Format.CSV, "a,b\n".getBytes(StandardCharsets.UTF_8))).getMessage());
    }

    @Test
    void jsonLinesAreCompactedAndTheirLineNumbersCountBlankLines() {
        List<byte[]> records = DataSet.records(DataSet.Format.JSONL,
                "{ \"a\" : [1, 2] }\r\n\n  \"s\"  \n".getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of("{\"a\":[1,2]}", "\"s\""),
                records.stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList());
        assertEquals("line 3 of the JSON Lines data set is not valid JSON", assertThrows(ApiError.class,
                () -> DataSet.records(DataSet.Format.JSONL, "1\n\n{\n".getBytes(StandardCharsets.UTF_8)))
                .getMessage());
    }
}
