package io.kiln.invoker.pool;

import io.kiln.invoker.instance.InstanceHandle;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * Every instance the invoker has, its {@link Lifecycle} state, and the one memory budget they
 * share. The single book: memory in use, counts per function, the idle order and what may be
 * evicted are all derived from the entries' states, and every state change goes through
 * {@link #move}, which keeps the derived numbers in step.
 *
 * <p><b>Eviction.</b> Idle instances are ordered by when they last went idle. To make room,
 * the least recently used idle instance goes first, skipping those that are <em>pinned</em>:
 * a function's idle instances are pinned while it has no more live (starting, idle or busy)
 * instances than its minimum. A call takes its function's most recently used idle instance.
 * Keep-alive expiry is per function (the dispatcher arms a timer per idle period) and spares
 * pinned instances the same way.
 *
 * <p>Memory: every entry that is not DESTROYED holds its function's memory, including a
 * RETIRING one whose VM is still being torn down. Only {@link #destroyed} gives it back.
 *
 * <p>Not thread-safe, by design: only the dispatcher's messages (one at a time) touch it.
 */
public final class InstancePool {

    private final long budgetMib;
    private final ToIntFunction<PoolKey> minimums;
    private final LinkedHashSet<PoolEntry> entries = new LinkedHashSet<>();
    /** Idle instances, least recently used first. */
    private final LinkedHashSet<PoolEntry> lru = new LinkedHashSet<>();
    /** Idle instances per function version, most recently used last. */
    private final Map<PoolKey, ArrayDeque<PoolEntry>> idleByKey = new HashMap<>();
    private final Map<PoolKey, EnumMap<Lifecycle, Integer>> counts = new HashMap<>();
    private final EnumMap<Lifecycle, Long> mib = new EnumMap<>(Lifecycle.class);
    private long seq;

    /**
     * @param minimums how many live instances a function version keeps (0 for an old version)
     */
    public InstancePool(long budgetMib, ToIntFunction<PoolKey> minimums) {
        if (budgetMib < 1) {
            throw new IllegalArgumentException("the memory budget must be positive, got " + budgetMib + " MiB");
        }
        this.budgetMib = budgetMib;
        this.minimums = minimums;
        for (Lifecycle s : Lifecycle.values()) {
            mib.put(s, 0L);
        }
    }

    // ---- moves ---------------------------------------------------------------------------

    /** A new STARTING instance holding {@code memoryMib}, or null if the budget has no room now. */
    public PoolEntry start(PoolKey key, int memoryMib) {
        if (freeMib() < memoryMib) {
            return null;
        }
        PoolEntry e = new PoolEntry(++seq, key, memoryMib);
        entries.add(e);
        count(key, Lifecycle.STARTING, +1);
        mib.merge(Lifecycle.STARTING, (long) memoryMib, Long::sum);
        return e;
    }

    /** The start finished: the entry now has its running instance. */
    public void attach(PoolEntry e, InstanceHandle handle) {
        if (e.handle != null) {
            throw new IllegalStateException(e + " already has an instance");
        }
        e.handle = handle;
    }

    /** Takes the most recently used idle instance of {@code key} for a call (BUSY), or null. */
    public PoolEntry take(PoolKey key) {
        ArrayDeque<PoolEntry> idle = idleByKey.get(key);
        if (idle == null || idle.isEmpty()) {
            return null;
        }
        PoolEntry e = idle.peekLast();
        move(e, Lifecycle.BUSY);
        return e;
    }

    /** A started or busy instance goes idle, now its most recently used. */
    public void idle(PoolEntry e, long nowNanos) {
        move(e, Lifecycle.IDLE);
        e.idleSinceNanos = nowNanos;
    }

    /** A started instance serves a call. */
    public void busy(PoolEntry e) {
        move(e, Lifecycle.BUSY);
    }

    /** The instance is let go; its memory stays held until {@link #destroyed}. False if it already was. */
    public boolean retire(PoolEntry e) {
        if (!e.state.live()) {
            return false;
        }
        move(e, Lifecycle.RETIRING);
        return true;
    }

    /** Its VM is gone (or never came): the entry leaves and its memory is free. */
    public void destroyed(PoolEntry e) {
        if (e.state == Lifecycle.DESTROYED) {
            return;
        }
        move(e, Lifecycle.DESTROYED);
        entries.remove(e);
    }

    /**
     * The one place a state changes. Keeps the counts, the memory per state and the idle
     * orders in step with the entries, and refuses moves the lifecycle does not have.
     */
    private void move(PoolEntry e, Lifecycle to) {
        Lifecycle from = e.state;
        boolean allowed = switch (to) {
            case STARTING -> false;
            case IDLE -> from == Lifecycle.STARTING || from == Lifecycle.BUSY;
            case BUSY -> from == Lifecycle.STARTING || from == Lifecycle.IDLE;
            case RETIRING -> from.live();
            case DESTROYED -> from == Lifecycle.STARTING || from == Lifecycle.RETIRING;
        };
        if (!allowed) {
            throw new IllegalStateException(e + " cannot go from " + from + " to " + to);
        }
        count(e.key(), to, +1);
        count(e.key(), from, -1);
        if (from == Lifecycle.IDLE) {
            lru.remove(e);
            ArrayDeque<PoolEntry> idle = idleByKey.get(e.key());
            idle.remove(e);
            if (idle.isEmpty()) {
                idleByKey.remove(e.key());
            }
            if (e.cancelKeepAlive != null) {
                e.cancelKeepAlive.run();
                e.cancelKeepAlive = null;
            }
        }
        if (to == Lifecycle.IDLE) {
            lru.add(e);
            idleByKey.computeIfAbsent(e.key(), k -> new ArrayDeque<>()).addLast(e);
        }
        mib.merge(from, (long) -e.memoryMib(), Long::sum);
        mib.merge(to, (long) e.memoryMib(), Long::sum);
        e.state = to;
        e.epoch++;
    }

    private void count(PoolKey key, Lifecycle s, int delta) {
        if (s == Lifecycle.DESTROYED) {
            return;
        }
        EnumMap<Lifecycle, Integer> c = counts.computeIfAbsent(key, k -> new EnumMap<>(Lifecycle.class));
        int n = c.getOrDefault(s, 0) + delta;
        if (n < 0) {
            throw new IllegalStateException("count of " + s + " instances of " + key + " went negative");
        }
        c.put(s, n);
        if (c.values().stream().allMatch(v -> v == 0)) {
            counts.remove(key); // no instance of key is left: any(key) says so
        }
    }

    // ---- eviction and keep-alive ---------------------------------------------------------

    /**
     * Retires least recently used unpinned idle instances until {@code memoryMib} is free or
     * on its way (free plus what retiring instances will give back), and returns them: the
     * caller tears them down. Retires nothing if that would still not be enough.
     */
    public List<PoolEntry> evictFor(long memoryMib) {
        long coming = freeMib() + mib.get(Lifecycle.RETIRING);
        if (coming >= memoryMib) {
            return List.of();
        }
        List<PoolEntry> victims = new ArrayList<>();
        Map<PoolKey, Integer> liveAfter = new HashMap<>();
        for (PoolEntry e : lru) {
            int live = liveAfter.computeIfAbsent(e.key(), this::live);
            if (live <= minimums.applyAsInt(e.key())) {
                continue; // pinned
            }
            liveAfter.put(e.key(), live - 1);
            victims.add(e);
            coming += e.memoryMib();
            if (coming >= memoryMib) {
                break;
            }
        }
        if (coming < memoryMib) {
            return List.of();
        }
        for (PoolEntry e : victims) {
            move(e, Lifecycle.RETIRING);
        }
        return victims;
    }

    /**
     * A keep-alive timer fired for {@code e}'s idle period {@code epoch}: retires it if it is
     * still idle since then and not pinned.
     */
    public boolean expire(PoolEntry e, long epoch) {
        if (e.state != Lifecycle.IDLE || e.epoch != epoch || pinned(e.key())) {
            return false;
        }
        move(e, Lifecycle.RETIRING);
        return true;
    }

    /** Whether {@code key}'s idle instances are all pinned: it has no more live ones than its minimum. */
    public boolean pinned(PoolKey key) {
        return live(key) <= minimums.applyAsInt(key);
    }

    // ---- what the state says -------------------------------------------------------------

    public long budgetMib() {
        return budgetMib;
    }

    /** Memory held by every instance not yet destroyed. */
    public long usedMib() {
        return budgetMib - freeMib();
    }

    public long freeMib() {
        long used = 0;
        for (Lifecycle s : Lifecycle.values()) {
            if (s != Lifecycle.DESTROYED) {
                used += mib.get(s);
            }
        }
        return budgetMib - used;
    }

    /** Memory of idle instances eviction may take. */
    public long evictableMib() {
        long total = 0;
        for (Map.Entry<PoolKey, ArrayDeque<PoolEntry>> k : idleByKey.entrySet()) {
            if (!k.getValue().isEmpty()) {
                total += (long) evictableIdle(k.getKey()) * k.getValue().peekFirst().memoryMib();
            }
        }
        return total;
    }

    public int count(PoolKey key, Lifecycle s) {
        EnumMap<Lifecycle, Integer> c = counts.get(key);
        return c == null ? 0 : c.getOrDefault(s, 0);
    }

    /** Starting, idle and busy instances of {@code key}. */
    public int live(PoolKey key) {
        return count(key, Lifecycle.STARTING) + count(key, Lifecycle.IDLE) + count(key, Lifecycle.BUSY);
    }

    /** Idle instances of {@code key} eviction and expiry may take: those above its minimum. */
    public int evictableIdle(PoolKey key) {
        return Math.min(count(key, Lifecycle.IDLE), Math.max(0, live(key) - minimums.applyAsInt(key)));
    }

    /** Whether any instance of {@code key} is left, retiring ones included. */
    public boolean any(PoolKey key) {
        return counts.containsKey(key);
    }

    /** Every instance not yet destroyed, in the order they were made. */
    public List<PoolEntry> entries() {
        return new ArrayList<>(entries);
    }

    /** Idle instances of {@code key}, least recently used first. */
    public List<PoolEntry> idleOf(PoolKey key) {
        ArrayDeque<PoolEntry> idle = idleByKey.get(key);
        return idle == null ? List.of() : new ArrayList<>(idle);
    }

    /** Idle instances, least recently used first: the eviction order before pinning. */
    public List<PoolEntry> idleInLruOrder() {
        return new ArrayList<>(lru);
    }

    public int size() {
        return entries.size();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("pool ").append(usedMib()).append('/').append(budgetMib).append(" MiB:");
        for (Iterator<PoolEntry> i = entries.iterator(); i.hasNext(); ) {
            b.append(' ').append(i.next());
        }
        return b.toString();
    }
}
