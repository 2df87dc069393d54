import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Random;

/**
 * Writes the example's data set to standard output: a CSV export of hourly readings from four
 * weather stations over July 2026 (2,976 rows), with a daily temperature cycle, humidity that
 * falls as the day warms, gusty afternoons, and the faults real sensors have: about one reading
 * in 200 is "ERR" or out of range. The same rows every time (a fixed seed).
 *
 *   java examples/batch/GenerateReadings.java > readings.csv
 */
public class GenerateReadings {

    record Station(String id, double meanF, double swingF, double humidity) {
    }

    public static void main(String[] args) {
        Station[] stations = {
            new Station("KSEA", 66, 9, 62),
            new Station("KPHX", 95, 12, 28),
            new Station("KMIA", 84, 5, 76),
            new Station("KDEN", 71, 14, 40),
        };
        Random random = new Random(2026);
        Instant start = Instant.parse("2026-07-01T00:00:00Z");
        StringBuilder out = new StringBuilder("station,time,tempF,humidity,windMph\n");
        for (int hour = 0; hour < 31 * 24; hour++) {
            Instant t = start.plus(Duration.ofHours(hour));
            for (Station s : stations) {
                // Warmest mid-afternoon local time (stations are UTC-7 to UTC-4: about 22:00 UTC).
                double phase = 2 * Math.PI * ((hour % 24) - 22) / 24.0;
                double tempF = s.meanF() + s.swingF() * Math.cos(phase) + random.nextGaussian() * 1.5;
                double humidity = s.humidity() - 0.9 * (tempF - s.meanF()) + random.nextGaussian() * 4;
                humidity = Math.max(5, Math.min(100, humidity));
                double wind = Math.max(0, 6 + 5 * Math.cos(phase) + random.nextGaussian() * 3);
                String temp = String.format(Locale.ROOT, "%.1f", tempF);
                String rh = String.format(Locale.ROOT, "%.0f", humidity);
                double fault = random.nextDouble();
                if (fault < 0.003) {
                    temp = "ERR";
                } else if (fault < 0.005) {
                    rh = "104";
                }
                out.append(s.id()).append(',').append(t).append(',').append(temp).append(',').append(rh)
                        .append(',').append(String.format(Locale.ROOT, "%.1f", wind)).append('\n');
            }
        }
        System.out.print(out);
    }
}
