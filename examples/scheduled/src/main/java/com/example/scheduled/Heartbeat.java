package com.example.scheduled;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.ScheduledEvent;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A handler of EventBridge schedules, as written for Lambda: it reports which schedule fired,
 * for which fire time (in UTC and in the zone the schedule's cron is read in, the function's
 * {@code ZONE} environment variable, default UTC), and how long after that fire time it started.
 * The fire time comes from the event, not from the clock: a retried or late call still reports
 * the fire time it stands for, which is what a job that processes "the last five minutes" must
 * use.
 */
public class Heartbeat implements RequestHandler<ScheduledEvent, Map<String, Object>> {

    @Override
    public Map<String, Object> handleRequest(ScheduledEvent event, Context context) {
        Instant fireTime = Instant.ofEpochMilli(event.getTime().getMillis());
        ZoneId zone = ZoneId.of(System.getenv().getOrDefault("ZONE", "UTC"));
        List<String> resources = event.getResources();
        String schedule = resources == null || resources.isEmpty() ? "?" : resources.get(0);
        long lateMs = Math.max(0, Duration.between(fireTime, Instant.now()).toMillis());

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("schedule", schedule);
        report.put("fireTime", fireTime.toString());
        report.put("localFireTime", fireTime.atZone(zone).toOffsetDateTime().toString());
        report.put("eventId", event.getId());
        report.put("startedAfterMs", lateMs);
        context.getLogger().log(schedule + " fired for " + fireTime + " (" + lateMs + " ms later)\n");
        return report;
    }
}
