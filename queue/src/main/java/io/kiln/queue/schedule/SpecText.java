package io.kiln.queue.schedule;

import java.util.regex.Pattern;

/** Texts and patterns {@link ScheduleSpec} shares (an interface cannot hold private ones). */
final class SpecText {
  private SpecText() {}

  static final String MISSING_ZONE = "zone: missing; a cron schedule needs an explicit IANA time"
      + " zone such as Europe/Berlin or UTC; none is ever implied";

  static final String AT_ALLOWED = "an ISO-8601 date-time with an offset or zone, e.g."
      + " 2026-12-01T09:00:00+01:00 or 2026-12-01T09:00:00Z, or one without them if zone is"
      + " given";

  static final Pattern RATE = Pattern.compile("(\\d{1,9})([smhd])");
}
