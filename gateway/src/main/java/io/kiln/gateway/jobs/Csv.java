package io.kiln.gateway.jobs;

import io.kiln.gateway.http.ApiError;

import java.util.ArrayList;
import java.util.List;

/**
 * An RFC 4180 CSV reader: fields separated by commas, records by LF or CRLF; a field in double
 * quotes may hold commas, line breaks and doubled quotes ({@code ""} for one). Anything else
 * that RFC 4180 does not allow (a quote inside an unquoted field, text after a closing quote,
 * a quote never closed) is a 400 naming the line, rather than a guess. Blank lines are skipped.
 */
final class Csv {

    /** One record and the line it starts on (1-based). */
    record Row(int line, List<String> fields) {
    }

    private Csv() {
    }

    static List<Row> parse(String text) {
        List<Row> rows = new ArrayList<>();
        int n = text.length();
        int i = text.startsWith("\uFEFF") ? 1 : 0;
        int line = 1;
        while (i < n) {
            int start = line;
            List<String> fields = new ArrayList<>();
            boolean endOfRecord = false;
            while (!endOfRecord) {
                StringBuilder field = new StringBuilder();
                if (i < n && text.charAt(i) == '"') {
                    int quoteLine = line;
                    i++;
                    while (true) {
                        if (i >= n) {
                            throw ApiError.badRequest("CSV line " + quoteLine + ": a quoted field is not closed");
                        }
                        char c = text.charAt(i);
                        if (c == '"') {
                            if (i + 1 < n && text.charAt(i + 1) == '"') {
                                field.append('"');
                                i += 2;
                                continue;
                            }
                            i++;
                            break;
                        }
                        if (c == '\n') {
                            line++;
                        }
                        field.append(c);
                        i++;
                    }
                    if (i < n && text.charAt(i) != ',' && text.charAt(i) != '\n' && text.charAt(i) != '\r') {
                        throw ApiError.badRequest("CSV line " + line + ": text after a quoted field's closing quote");
                    }
                } else {
                    while (i < n) {
                        char c = text.charAt(i);
                        if (c == ',' || c == '\n' || c == '\r') {
                            break;
                        }
                        if (c == '"') {
                            throw ApiError.badRequest("CSV line " + line
                                    + ": a quote inside an unquoted field (quote the whole field and double the quote)");
                        }
                        field.append(c);
                        i++;
                    }
                }
                fields.add(field.toString());
                if (i >= n) {
                    endOfRecord = true;
                } else if (text.charAt(i) == ',') {
                    i++;
                } else {
                    // LF or CRLF (a lone CR ends the record too)
                    if (text.charAt(i) == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') {
                        i++;
                    }
                    i++;
                    line++;
                    endOfRecord = true;
                }
            }
            boolean blank = fields.size() == 1 && fields.get(0).isEmpty();
            if (!blank) {
                rows.add(new Row(start, fields));
            }
        }
        return rows;
    }
}
