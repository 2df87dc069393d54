package io.kiln.queue.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kiln.queue.schedule.Misfires.Due;
import io.kiln.queue.schedule.Misfires.Missed;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MisfiresTest {

  static Instant i(String s) {
    return Instant.parse(s);
  }

  static final ScheduleSpec EVERY_5M =
      new ScheduleSpec.Rate(Duration.ofMinutes(5), i("2026-11-30T10:00:00Z"));
  static final ScheduleSpec HOURLY_BERLIN = new ScheduleSpec.Cron("0 * * * *", ZoneId.of("Europe/Berlin"));

  @Test
  void nothingDue() {
    Due d = Misfires.due(EVERY_5M, i("2026-11-30T10:05:00Z"), i("2026-11-30T10:09:59Z"),
        MisfirePolicy.SKIP);
    assertEquals(new Due(List.of(), i("2026-11-30T10:05:00Z"),
        Optional.of(i("2026-11-30T10:10:00Z")), Optional.empty()), d);
  }

  @Test
  void onTimeFiresUnderBothPolicies() {
    for (MisfirePolicy p : MisfirePolicy.values()) {
      Due d = Misfires.due(EVERY_5M, i("2026-11-30T10:05:00Z"), i("2026-11-30T10:10:00.200Z"), p);
      assertEquals(new Due(List.of(i("2026-11-30T10:10:00Z")), i("2026-11-30T10:10:00Z"),
          Optional.of(i("2026-11-30T10:15:00Z")), Optional.empty()), d);
    }
    // 60 s late is still on time (the grace is inclusive)
    Due d = Misfires.due(EVERY_5M, i("2026-11-30T10:05:00Z"), i("2026-11-30T10:11:00Z"),
        MisfirePolicy.SKIP);
    assertEquals(List.of(i("2026-11-30T10:10:00Z")), d.fire());
    assertEquals(Optional.empty(), d.missed());
  }

  @Test
  void oneMissedOlderThanGrace() {
    Instant last = i("2026-11-30T10:05:00Z");
    Instant now = i("2026-11-30T10:11:00.001Z");
    Missed missed = new Missed(i("2026-11-30T10:10:00Z"), i("2026-11-30T10:10:00Z"));
    assertEquals(new Due(List.of(i("2026-11-30T10:10:00Z")), i("2026-11-30T10:10:00Z"),
        Optional.of(i("2026-11-30T10:15:00Z")), Optional.of(missed)),
        Misfires.due(EVERY_5M, last, now, MisfirePolicy.FIRE_ONCE));
    assertEquals(new Due(List.of(), i("2026-11-30T10:10:00Z"),
        Optional.of(i("2026-11-30T10:15:00Z")), Optional.of(missed)),
        Misfires.due(EVERY_5M, last, now, MisfirePolicy.SKIP));
    // a larger grace makes it on time
    assertEquals(List.of(i("2026-11-30T10:10:00Z")),
        Misfires.due(EVERY_5M, last, now, MisfirePolicy.SKIP, Duration.ofMinutes(2)).fire());
  }

  @Test
  void manyMissedAfterDowntime() {
    // down from 10:07 to 13:42:30: 10:10 .. 13:40 missed (43 fire times)
    Instant last = i("2026-11-30T10:05:00Z");
    Instant now = i("2026-11-30T13:42:30Z");
    Missed missed = new Missed(i("2026-11-30T10:10:00Z"), i("2026-11-30T13:40:00Z"));
    assertEquals(new Due(List.of(i("2026-11-30T13:40:00Z")), i("2026-11-30T13:40:00Z"),
        Optional.of(i("2026-11-30T13:45:00Z")), Optional.of(missed)),
        Misfires.due(EVERY_5M, last, now, MisfirePolicy.FIRE_ONCE));
    assertEquals(new Due(List.of(), i("2026-11-30T13:40:00Z"),
        Optional.of(i("2026-11-30T13:45:00Z")), Optional.of(missed)),
        Misfires.due(EVERY_5M, last, now, MisfirePolicy.SKIP));
  }

  @Test
  void manyMissedButTheLatestIsOnTime() {
    // back up just after 13:40: the older ones are missed, 13:40 itself is on time under SKIP too
    Instant last = i("2026-11-30T10:05:00Z");
    Instant now = i("2026-11-30T13:40:05Z");
    Missed missed = new Missed(i("2026-11-30T10:10:00Z"), i("2026-11-30T13:40:00Z"));
    for (MisfirePolicy p : MisfirePolicy.values()) {
      assertEquals(new Due(List.of(i("2026-11-30T13:40:00Z")), i("2026-11-30T13:40:00Z"),
          Optional.of(i("2026-11-30T13:45:00Z")), Optional.of(missed)),
          Misfires.due(EVERY_5M, last, now, p));
    }
  }

  @Test
  void cronAcrossDaysOfDowntimeAndFallBack() {
    // hourly in Berlin, down from 2026-10-20 to 2026-10-27 10:30 CET: the latest is 10:00 CET
    Instant last = i("2026-10-20T08:00:00Z");
    Instant now = i("2026-10-27T09:30:00Z");
    Due d = Misfires.due(HOURLY_BERLIN, last, now, MisfirePolicy.FIRE_ONCE);
    assertEquals(new Due(List.of(i("2026-10-27T09:00:00Z")), i("2026-10-27T09:00:00Z"),
        Optional.of(i("2026-10-27T10:00:00Z")),
        Optional.of(new Missed(i("2026-10-20T09:00:00Z"), i("2026-10-27T09:00:00Z")))), d);
    // on time in the repeated hour: 02:00 CET (second occurrence) fires
    d = Misfires.due(HOURLY_BERLIN, i("2026-10-25T00:00:00Z"), i("2026-10-25T01:00:01Z"),
        MisfirePolicy.SKIP);
    assertEquals(List.of(i("2026-10-25T01:00:00Z")), d.fire());
    assertEquals(Optional.empty(), d.missed());
  }

  @Test
  void oneTimeAt() {
    ScheduleSpec at = new ScheduleSpec.At(i("2026-12-01T08:00:00Z"));
    Instant created = i("2026-11-30T10:00:00Z");
    Due d = Misfires.due(at, created, i("2026-12-01T08:00:30Z"), MisfirePolicy.SKIP);
    assertEquals(new Due(List.of(i("2026-12-01T08:00:00Z")), i("2026-12-01T08:00:00Z"),
        Optional.empty(), Optional.empty()), d);
    // handled: nothing more, ever
    d = Misfires.due(at, d.advanceTo(), i("2027-01-01T00:00:00Z"), MisfirePolicy.FIRE_ONCE);
    assertEquals(new Due(List.of(), i("2026-12-01T08:00:00Z"), Optional.empty(), Optional.empty()), d);
    // missed by a day: SKIP drops it, FIRE_ONCE fires it late
    Missed missed = new Missed(i("2026-12-01T08:00:00Z"), i("2026-12-01T08:00:00Z"));
    assertEquals(new Due(List.of(), i("2026-12-01T08:00:00Z"), Optional.empty(), Optional.of(missed)),
        Misfires.due(at, created, i("2026-12-02T08:00:00Z"), MisfirePolicy.SKIP));
    assertEquals(List.of(i("2026-12-01T08:00:00Z")),
        Misfires.due(at, created, i("2026-12-02T08:00:00Z"), MisfirePolicy.FIRE_ONCE).fire());
  }
}
