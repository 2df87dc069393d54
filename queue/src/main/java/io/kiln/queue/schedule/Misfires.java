package io.kiln.queue.schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Which fire times to enqueue now, given the last fire time already handled and the current
 * time. Pure: the caller supplies both instants.
 *
 * <p>Let D be the fire times in {@code (lastScheduled, now]} and L the latest of them.
 * <ul>
 *   <li>D empty: nothing is due; {@code fire} is empty and {@code advanceTo} is
 *       {@code lastScheduled}.</li>
 *   <li>On time — D is exactly L and L is no older than the grace ({@code now - L <= grace}):
 *       L fires, under either policy. This is the normal tick.</li>
 *   <li>Misfire — D has more than one fire time, or L is older than the grace: the fire times
 *       in D are reported in {@code missed} (first and last). FIRE_ONCE fires exactly one, L
 *       (the latest missed). SKIP fires none — except that L still fires if it is within the
 *       grace, because L is then on time, not missed; only the older ones are dropped.</li>
 * </ul>
 * So {@code fire} never has more than one element.
 *
 * <p>The caller stores {@code advanceTo} as the schedule's new "last scheduled" fire time
 * (whether or not anything fired, and whatever the {@link OverlapPolicy} then decides for the
 * fired one), passes it as {@code lastScheduled} next time, and may sleep until {@code next}.
 * For a new schedule, pass its creation time as {@code lastScheduled}.
 */
public final class Misfires {
  private Misfires() {}

  /** How late a fire time may be handled and still count as on time: 60 seconds. */
  public static final Duration GRACE = Duration.ofSeconds(60);

  /**
   * What is due now.
   *
   * @param fire the fire times to enqueue now, in order: empty or one element
   * @param advanceTo the fire time to record as the last one handled: L if D is non-empty,
   *     else the {@code lastScheduled} passed in
   * @param next the first fire time after {@code advanceTo} (after now if D was non-empty);
   *     empty if the schedule never fires again
   * @param missed set when fire times were missed (see the class comment)
   */
  public record Due(List<Instant> fire, Instant advanceTo, Optional<Instant> next,
      Optional<Missed> missed) {
    public Due {
      fire = List.copyOf(fire);
    }
  }

  /**
   * The fire times from {@code first} to {@code last} (inclusive, in the schedule) were missed.
   * {@code last} is the latest fire time at or before now; whether it fired is in
   * {@link Due#fire()}.
   */
  public record Missed(Instant first, Instant last) {}

  /** {@link #due(ScheduleSpec, Instant, Instant, MisfirePolicy, Duration)} with {@link #GRACE}. */
  public static Due due(ScheduleSpec spec, Instant lastScheduled, Instant now, MisfirePolicy p) {
    return due(spec, lastScheduled, now, p, GRACE);
  }

  /** What is due now; see the class comment. {@code grace} must not be negative. */
  public static Due due(ScheduleSpec spec, Instant lastScheduled, Instant now, MisfirePolicy p,
      Duration grace) {
    if (grace.isNegative()) {
      throw new IllegalArgumentException("grace: " + grace + " is negative; allowed: >= 0");
    }
    Optional<Instant> first = spec.nextAfter(lastScheduled);
    if (first.isEmpty() || first.get().isAfter(now)) {
      return new Due(List.of(), lastScheduled, first, Optional.empty());
    }
    Optional<Instant> second = spec.nextAfter(first.get());
    boolean several = second.isPresent() && !second.get().isAfter(now);
    Instant latest = several ? latestAtOrBefore(spec, second.get(), now) : first.get();
    boolean onTime = !latest.isBefore(now.minus(grace));
    Optional<Instant> next = spec.nextAfter(latest);
    if (!several && onTime) {
      return new Due(List.of(latest), latest, next, Optional.empty());
    }
    List<Instant> fire = (p == MisfirePolicy.FIRE_ONCE || onTime) ? List.of(latest) : List.of();
    return new Due(fire, latest, next, Optional.of(new Missed(first.get(), latest)));
  }

  /** The latest fire time in [from, now], given that from is one; without walking all of them. */
  private static Instant latestAtOrBefore(ScheduleSpec spec, Instant from, Instant now) {
    Instant found = from;
    for (Duration w = Duration.ofMinutes(1); ; w = w.multipliedBy(2)) {
      Instant start = now.minus(w);
      if (!start.isAfter(from)) {
        break;
      }
      Optional<Instant> c = spec.nextAfter(start);
      if (c.isPresent() && !c.get().isAfter(now)) {
        found = c.get();
        break;
      }
    }
    for (Optional<Instant> n = spec.nextAfter(found); n.isPresent() && !n.get().isAfter(now);
        n = spec.nextAfter(found)) {
      found = n.get();
    }
    return found;
  }
}
