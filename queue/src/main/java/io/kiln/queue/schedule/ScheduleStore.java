package io.kiln.queue.schedule;

import io.kiln.queue.NewItem;
import io.kiln.queue.QueueItem;
import io.kiln.queue.QueueStore;
import io.kiln.queue.RetryPolicy;
import io.kiln.queue.db.Database;
import io.kiln.queue.db.Dialect;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Schedules and their firings, in the queue's store. A fire time fires at most once, whatever
 * the number of nodes or restarts: {@link #fireDue} inserts the fire time's row in
 * {@code schedule_firings} (primary key: schedule, fire time) with {@code ON CONFLICT DO NOTHING}
 * and enqueues the call only if that row was new, in one transaction. On PostgreSQL the schedule's
 * row is also locked ({@code FOR UPDATE SKIP LOCKED}) so that one node works on it while the
 * others pass it by. Delivery of the call to the function is then the queue's: at least once.
 *
 * <p>Every method blocks on the store; callers off the store's threads use
 * {@link Database#async}.
 */
public final class ScheduleStore {

    private static final String COLUMNS = "name, function_name, kind, spec, zone, spec_at, overlap, misfire, input,"
            + " shape, enabled, created_at, updated_at, last_scheduled, next_fire_at";

    private final QueueStore queue;
    private final Database db;
    private final Function<String, Optional<RetryPolicy>> policies;
    private final LongSupplier callIds;

    /**
     * @param policies a function's retry policy (its event policy's), or empty if no such function
     *     is deployed
     * @param callIds new call ids (the gateway's {@code CallRequest::newId})
     */
    public ScheduleStore(QueueStore queue, Function<String, Optional<RetryPolicy>> policies, LongSupplier callIds) {
        this.queue = queue;
        this.db = queue.database();
        this.policies = policies;
        this.callIds = callIds;
    }

    public Database database() {
        return db;
    }

    public java.time.Clock clock() {
        return queue.clock();
    }

    // ---- definitions -------------------------------------------------------------------------

    /** What {@link #put} did. */
    public record Put(Schedule schedule, boolean created) {
    }

    /**
     * Creates the schedule, or replaces the one of that name. A replace that keeps the fire times
     * (kind, value and zone unchanged) keeps the schedule's progress, so fire times already handled
     * are not handled again and a repeated identical put changes nothing; one that changes them
     * starts afresh from now.
     *
     * @throws IllegalArgumentException the spec is refused ({@link ScheduleSpec#parse}'s message)
     */
    public Put put(ScheduleDefinition d) throws SQLException {
        return db.transaction(c -> {
            Instant now = now();
            Schedule old = get(c, d.name(), db.dialect() == Dialect.POSTGRES ? " FOR UPDATE" : "");
            if (old != null && d.sameTimes(old.definition().kind(), old.definition().value(),
                    old.definition().zone())) {
                Schedule kept = new Schedule(d, old.createdAt(), now, old.specAt(), old.lastScheduled(),
                        old.nextFireAt());
                write(c, kept);
                return new Put(kept, false);
            }
            ScheduleSpec spec = ScheduleSpec.parse(d.kind(), d.value(), d.zone(), now);
            Schedule s = new Schedule(d, old == null ? now : old.createdAt(), now, now, now,
                    spec.nextAfter(now).orElse(null));
            if (old == null) {
                try (PreparedStatement p = c.prepareStatement("INSERT INTO schedules (" + COLUMNS + ") VALUES"
                        + " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING")) {
                    bind(p, s);
                    if (p.executeUpdate() == 0) {
                        throw new SQLException("schedule " + d.name() + " was created at the same moment by"
                                + " another request; try again");
                    }
                }
            } else {
                write(c, s);
            }
            return new Put(s, old == null);
        });
    }

    private static void write(Connection c, Schedule s) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE schedules SET name = ?, function_name = ?, kind = ?,"
                + " spec = ?, zone = ?, spec_at = ?, overlap = ?, misfire = ?, input = ?, shape = ?, enabled = ?,"
                + " created_at = ?, updated_at = ?, last_scheduled = ?, next_fire_at = ? WHERE name = ?")) {
            bind(p, s);
            p.setString(16, s.name());
            p.executeUpdate();
        }
    }

    private static void bind(PreparedStatement p, Schedule s) throws SQLException {
        ScheduleDefinition d = s.definition();
        p.setString(1, d.name());
        p.setString(2, d.function());
        p.setString(3, d.kind());
        p.setString(4, d.value());
        p.setString(5, d.zone());
        p.setLong(6, s.specAt().toEpochMilli());
        p.setString(7, d.overlap().name().toLowerCase(Locale.ROOT));
        p.setString(8, d.misfire().name().toLowerCase(Locale.ROOT));
        p.setBytes(9, d.input());
        p.setString(10, d.shape().text());
        p.setInt(11, d.enabled() ? 1 : 0);
        p.setLong(12, s.createdAt().toEpochMilli());
        p.setLong(13, s.updatedAt().toEpochMilli());
        p.setLong(14, s.lastScheduled().toEpochMilli());
        if (s.nextFireAt() == null) {
            p.setNull(15, Types.BIGINT);
        } else {
            p.setLong(15, s.nextFireAt().toEpochMilli());
        }
    }

    public Optional<Schedule> get(String name) throws SQLException {
        return Optional.ofNullable(db.transaction(c -> get(c, name, "")));
    }

    private static Schedule get(Connection c, String name, String lock) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS + " FROM schedules WHERE name = ?"
                + lock)) {
            p.setString(1, name);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? schedule(r) : null;
            }
        }
    }

    /** Every schedule, by name. */
    public List<Schedule> list() throws SQLException {
        return db.transaction(c -> {
            List<Schedule> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS + " FROM schedules ORDER BY name");
                 ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    out.add(schedule(r));
                }
            }
            return out;
        });
    }

    /**
     * Deletes the schedule and its firings' history (so a new schedule of the same name starts
     * with none); calls already enqueued run. False if there was none.
     */
    public boolean delete(String name) throws SQLException {
        return db.transaction(c -> {
            int n;
            try (PreparedStatement p = c.prepareStatement("DELETE FROM schedules WHERE name = ?")) {
                p.setString(1, name);
                n = p.executeUpdate();
            }
            try (PreparedStatement p = c.prepareStatement("DELETE FROM schedule_firings WHERE schedule_name = ?")) {
                p.setString(1, name);
                p.executeUpdate();
            }
            return n > 0;
        });
    }

    /** The earliest next fire time of an enabled schedule, or empty if none will fire. */
    public Optional<Instant> nextFireAt() throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT MIN(next_fire_at) FROM schedules WHERE enabled = 1 AND next_fire_at IS NOT NULL");
                 ResultSet r = p.executeQuery()) {
                long v = r.next() ? r.getLong(1) : 0;
                return r.wasNull() ? Optional.<Instant>empty() : Optional.of(Instant.ofEpochMilli(v));
            }
        });
    }

    // ---- firing ------------------------------------------------------------------------------

    /**
     * Handles every enabled schedule whose next fire time is not after now, one transaction each:
     * what is due by {@link Misfires#due} is fired (a call enqueued), skipped (overlap policy) or
     * recorded as missed (misfire policy), and the schedule advances. Returns the firings this
     * call recorded; a fire time another node or an earlier run already recorded is not among
     * them and enqueues nothing.
     */
    public List<Firing> fireDue() throws SQLException {
        Instant now = now();
        List<String> due = db.transaction(c -> {
            List<String> names = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT name FROM schedules WHERE enabled = 1"
                    + " AND next_fire_at <= ? ORDER BY next_fire_at, name")) {
                p.setLong(1, now.toEpochMilli());
                try (ResultSet r = p.executeQuery()) {
                    while (r.next()) {
                        names.add(r.getString(1));
                    }
                }
            }
            return names;
        });
        List<Firing> fired = new ArrayList<>();
        for (String name : due) {
            Firing f = db.transaction(c -> fireOne(c, name, now));
            if (f != null) {
                fired.add(f);
                if (f.outcome() == Firing.Outcome.ENQUEUED) {
                    queue.wake();
                }
            }
        }
        return fired;
    }

    /** One schedule's due work, inside its transaction; null if nothing was recorded. */
    private Firing fireOne(Connection c, String name, Instant now) throws SQLException {
        Schedule s;
        // Another node holding the row is firing it now: pass it by (PostgreSQL). The condition is
        // checked again under the lock, as that node may have advanced it since the list was read.
        try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS + " FROM schedules WHERE name = ?"
                + " AND enabled = 1 AND next_fire_at <= ?" + db.dialect().claimLock())) {
            p.setString(1, name);
            p.setLong(2, now.toEpochMilli());
            try (ResultSet r = p.executeQuery()) {
                if (!r.next()) {
                    return null;
                }
                s = schedule(r);
            }
        }
        ScheduleDefinition d = s.definition();
        Misfires.Due due = Misfires.due(s.spec(), s.lastScheduled(), now, d.misfire());
        Firing recorded = null;
        if (!due.fire().isEmpty()) {
            recorded = fire(c, s, due.fire().get(0), now, missedNote(due, d.misfire()));
        } else if (due.missed().isPresent()) {
            Misfires.Missed m = due.missed().get();
            recorded = record(c, new Firing(d.name(), m.last(), now, queue.node(), Firing.Outcome.MISSED, null,
                    "missed the fire times from " + m.first() + " to " + m.last() + " while no node was firing;"
                            + " misfire policy skip", null, 0));
        }
        try (PreparedStatement p = c.prepareStatement(
                "UPDATE schedules SET last_scheduled = ?, next_fire_at = ? WHERE name = ?")) {
            p.setLong(1, due.advanceTo().toEpochMilli());
            if (due.next().isPresent()) {
                p.setLong(2, due.next().get().toEpochMilli());
            } else {
                p.setNull(2, Types.BIGINT);
            }
            p.setString(3, name);
            p.executeUpdate();
        }
        return recorded;
    }

    private static String missedNote(Misfires.Due due, MisfirePolicy policy) {
        if (due.missed().isEmpty()) {
            return null;
        }
        Misfires.Missed m = due.missed().get();
        return policy == MisfirePolicy.FIRE_ONCE
                ? "stands for the fire times from " + m.first() + " to " + m.last() + ", missed while no node was"
                        + " firing; misfire policy fire-once"
                : "the fire times from " + m.first() + " before this one were missed while no node was firing"
                        + " and are dropped; misfire policy skip";
    }

    /** Fire time {@code t}: a call enqueued, or a skip recorded; null if {@code t} was handled before. */
    private Firing fire(Connection c, Schedule s, Instant t, Instant now, String note) throws SQLException {
        ScheduleDefinition d = s.definition();
        Optional<RetryPolicy> policy = policies.apply(d.function());
        if (policy.isEmpty()) {
            return record(c, new Firing(d.name(), t, now, queue.node(), Firing.Outcome.SKIPPED, null,
                    "function " + d.function() + " is not deployed", null, 0));
        }
        if (d.overlap() == OverlapPolicy.SKIP) {
            String running = inProgress(c, Schedule.source(d.name()));
            if (running != null) {
                return record(c, new Firing(d.name(), t, now, queue.node(), Firing.Outcome.SKIPPED, null,
                        "the previous run " + running + "; overlap policy skip", null, 0));
            }
        }
        long id = callIds.getAsLong();
        Firing f = record(c, new Firing(d.name(), t, now, queue.node(), Firing.Outcome.ENQUEUED, id, note,
                QueueItem.State.AVAILABLE, 0));
        if (f == null) {
            return null; // this fire time has its row already: it was handled, never enqueue it again
        }
        byte[] input = d.shape() == Shape.EVENTBRIDGE ? ScheduledEventJson.of(d.name(), t, UUID.randomUUID())
                : d.input();
        queue.enqueue(c, NewItem.call(id, d.function(), input, null, null, null, Schedule.source(d.name()),
                policy.get()));
        return f;
    }

    /** "(call N) is still queued|running", or null if no run of the schedule is in progress. */
    private static String inProgress(Connection c, String source) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT id, state FROM queue_items WHERE source = ?"
                + " AND state IN ('available', 'running') ORDER BY created_at, id LIMIT 1")) {
            p.setString(1, source);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? "(call " + String.format("%016x", r.getLong(1)) + ") is still "
                        + (r.getString(2).equals("running") ? "running" : "queued") : null;
            }
        }
    }

    /** Inserts the firing unless its fire time has one; returns it, or null if it was there. */
    private static Firing record(Connection c, Firing f) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO schedule_firings (schedule_name, fire_time,"
                + " fired_at, node, outcome, call_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (schedule_name, fire_time) DO NOTHING")) {
            p.setString(1, f.schedule());
            p.setLong(2, f.fireTime().toEpochMilli());
            p.setLong(3, f.firedAt().toEpochMilli());
            p.setString(4, f.node());
            p.setString(5, f.outcome().text());
            if (f.callId() == null) {
                p.setNull(6, Types.BIGINT);
            } else {
                p.setLong(6, f.callId());
            }
            p.setString(7, f.reason());
            return p.executeUpdate() == 1 ? f : null;
        }
    }

    /** The schedule's last {@code limit} fire times handled, latest first, with their calls' states. */
    public List<Firing> firings(String name, int limit) throws SQLException {
        return db.transaction(c -> {
            List<Firing> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT f.schedule_name, f.fire_time, f.fired_at, f.node,"
                    + " f.outcome, f.call_id, f.reason, q.state, q.attempt FROM schedule_firings f LEFT JOIN"
                    + " queue_items q ON q.id = f.call_id WHERE f.schedule_name = ? ORDER BY f.fire_time DESC"
                    + " LIMIT ?")) {
                p.setString(1, name);
                p.setInt(2, limit);
                try (ResultSet r = p.executeQuery()) {
                    while (r.next()) {
                        long call = r.getLong(6);
                        Long callId = r.wasNull() ? null : call;
                        String state = r.getString(8);
                        out.add(new Firing(r.getString(1), Instant.ofEpochMilli(r.getLong(2)),
                                Instant.ofEpochMilli(r.getLong(3)), r.getString(4), Firing.Outcome.of(r.getString(5)),
                                callId, r.getString(7),
                                state == null ? null : QueueItem.State.valueOf(state.toUpperCase(Locale.ROOT)),
                                r.getInt(9)));
                    }
                }
            }
            return out;
        });
    }

    /** Now, to the millisecond the store keeps: what is returned is what is read back later. */
    private Instant now() {
        return queue.clock().instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }

    /**
     * Deletes the firings of fire times before {@code before} (retention: a 1 s rate adds 86 400 a
     * day). Only fire times the schedule has moved past go, so no fire time that can still come
     * due loses the row that makes it fire once. Returns how many.
     */
    public int sweepFirings(Instant before) throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM schedule_firings WHERE fire_time < ? AND"
                    + " fire_time <= (SELECT s.last_scheduled FROM schedules s WHERE s.name = schedule_name)")) {
                p.setLong(1, before.toEpochMilli());
                return p.executeUpdate();
            }
        });
    }

    // ---- rows --------------------------------------------------------------------------------

    private static Schedule schedule(ResultSet r) throws SQLException {
        ScheduleDefinition d = new ScheduleDefinition(r.getString("name"), r.getString("function_name"),
                r.getString("kind"), r.getString("spec"), r.getString("zone"),
                OverlapPolicy.valueOf(r.getString("overlap").toUpperCase(Locale.ROOT)),
                MisfirePolicy.valueOf(r.getString("misfire").toUpperCase(Locale.ROOT)), r.getBytes("input"),
                Shape.of(r.getString("shape")), r.getInt("enabled") == 1);
        long next = r.getLong("next_fire_at");
        Instant nextAt = r.wasNull() ? null : Instant.ofEpochMilli(next);
        return new Schedule(d, Instant.ofEpochMilli(r.getLong("created_at")),
                Instant.ofEpochMilli(r.getLong("updated_at")), Instant.ofEpochMilli(r.getLong("spec_at")),
                Instant.ofEpochMilli(r.getLong("last_scheduled")), nextAt);
    }
}
