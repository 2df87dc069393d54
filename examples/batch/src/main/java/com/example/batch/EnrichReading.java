package com.example.batch;

import io.kiln.function.Context;
import io.kiln.function.Handler;

import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * Converts a weather station's reading to metric units and adds its dew point, its "feels like"
 * temperature and a comfort class. Run over a whole export with {@code kiln jobs submit}: one
 * call per row. A reading a sensor got wrong (not a number, out of physical range) throws, so it
 * lands in the job's failures file with the reason, and the rest of the export goes on.
 */
public final class EnrichReading implements Handler<Reading, Enriched> {

    // Magnus coefficients over water (Sonntag 1990), good from -45 °C to 60 °C.
    private static final double B = 17.62;
    private static final double C = 243.12;

    @Override
    public Enriched handle(Reading r, Context ctx) {
        if (r == null || r.station() == null || r.station().isBlank()) {
            throw new IllegalArgumentException("a reading needs a station");
        }
        String time = time(r.time());
        double tempF = number("tempF", r.tempF(), -80, 140);
        int humidity = (int) Math.round(number("humidity", r.humidity(), 0, 100));
        double windMph = number("windMph", r.windMph(), 0, 200);

        double tempC = (tempF - 32) * 5 / 9;
        double dewPointC = dewPoint(tempC, Math.max(humidity, 1));
        double feelsLikeF = tempF;
        if (tempF >= 80 && humidity >= 40) {
            feelsLikeF = heatIndexF(tempF, humidity);
        } else if (tempF <= 50 && windMph >= 3) {
            feelsLikeF = windChillF(tempF, windMph);
        }
        return new Enriched(r.station(), time, round1(tempC), humidity, round1(windMph * 1.609344),
                round1(dewPointC), round1((feelsLikeF - 32) * 5 / 9), comfort(dewPointC));
    }

    static double dewPoint(double tempC, int humidity) {
        double g = Math.log(humidity / 100.0) + B * tempC / (C + tempC);
        return C * g / (B - g);
    }

    /** The US National Weather Service's heat index (Rothfusz regression), in °F. */
    static double heatIndexF(double t, double rh) {
        return -42.379 + 2.04901523 * t + 10.14333127 * rh - 0.22475541 * t * rh - 6.83783e-3 * t * t
                - 5.481717e-2 * rh * rh + 1.22874e-3 * t * t * rh + 8.5282e-4 * t * rh * rh
                - 1.99e-6 * t * t * rh * rh;
    }

    /** The National Weather Service's wind chill (2001), in °F. */
    static double windChillF(double t, double mph) {
        double v = Math.pow(mph, 0.16);
        return 35.74 + 0.6215 * t - 35.75 * v + 0.4275 * t * v;
    }

    static String comfort(double dewPointC) {
        if (dewPointC < 10) {
            return "dry";
        }
        if (dewPointC < 16) {
            return "comfortable";
        }
        return dewPointC < 21 ? "humid" : "oppressive";
    }

    private static String time(String t) {
        try {
            return Instant.parse(t == null ? "" : t.strip()).toString();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("time is not an ISO-8601 instant: \"" + t + "\"");
        }
    }

    private static double number(String field, String v, double min, double max) {
        double d;
        try {
            d = Double.parseDouble(v == null ? "" : v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(field + " is not a number: \"" + v + "\"");
        }
        if (!(d >= min && d <= max)) {
            throw new IllegalArgumentException(field + " " + v + " is out of range (" + fmt(min) + " to "
                    + fmt(max) + ")");
        }
        return d;
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    private static double round1(double d) {
        return Math.round(d * 10) / 10.0;
    }
}
