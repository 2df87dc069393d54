package com.example.batch;

/**
 * One row of a weather station's CSV export, as a batch job hands it over: a CSV row becomes a
 * JSON object of header → value, and every value is a string (CSV does not say what is a
 * number), so the handler parses them itself and says which field was wrong.
 */
public record Reading(String station, String time, String tempF, String humidity, String windMph) {
}
