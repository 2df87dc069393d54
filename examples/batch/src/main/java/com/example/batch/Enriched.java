package com.example.batch;

/**
 * A reading in metric units with what people want to know from it.
 *
 * @param dewPointC  the temperature at which the air would be saturated (Magnus formula)
 * @param feelsLikeC the heat index when it is hot and humid, the wind chill when it is cold and
 *                   windy, else the temperature itself
 * @param comfort    by dew point: dry (below 10 °C), comfortable (below 16), humid (below 21),
 *                   oppressive
 */
public record Enriched(String station, String time, double tempC, int humidity, double windKph, double dewPointC,
                       double feelsLikeC, String comfort) {
}
