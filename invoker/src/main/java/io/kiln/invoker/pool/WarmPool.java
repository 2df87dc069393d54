package io.kiln.invoker.pool;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Policy;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Scheduler;
import com.github.benmanes.caffeine.cache.Ticker;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Idle instances and the one memory budget every instance counts against.
 *
 * <p>Memory is split in two. <em>Reserved</em> memory is held by instances that must not be
 * evicted: busy ones, starting ones, and the idle ones a function keeps as its minimum
 * ("pinned"). The rest of the budget is a Caffeine cache of idle instances, weighted by their
 * memory, each expiring after its function's keep-alive. The cache's maximum weight is always
 * {@code budget - reserved}: reserving memory for a new instance shrinks it, and Caffeine
 * evicts idle instances (its W-TinyLFU policy picks which) until they fit. An evicted or
 * expired instance goes to the {@code evicted} callback, which destroys it.
 *
 * <p>Not thread-safe: the dispatcher's lock guards every call. Caffeine runs its maintenance
 * and the removal callback on {@code events}, never inside that lock, so the callback may take
 * the lock.
 */
public final class WarmPool {

    private record Idle(PooledInstance pooled, Duration keepAlive) {
    }

    private final long budgetMib;
    private final Cache<Long, Idle> cache;
    private final Policy.Eviction<Long, Idle> eviction;
    /** Idle instance ids per key, most recently returned last: the warmest is taken first. */
    private final Map<PoolKey, ArrayDeque<Long>> idleIds = new HashMap<>();
    private final Map<PoolKey, ArrayDeque<PooledInstance>> pinned = new HashMap<>();
    private long reservedMib;

    public WarmPool(long budgetMib, Executor events, Ticker ticker, Consumer<PooledInstance> evicted) {
        if (budgetMib < 1) {
            throw new IllegalArgumentException("the memory budget must be positive, got " + budgetMib + " MiB");
        }
        this.budgetMib = budgetMib;
        this.cache = Caffeine.newBuilder()
                .maximumWeight(budgetMib)
                .weigher((Long id, Idle idle) -> idle.pooled.memoryMib())
                .expireAfter(new Expiry<Long, Idle>() {
                    @Override
                    public long expireAfterCreate(Long id, Idle idle, long now) {
                        return idle.keepAlive.toNanos();
                    }

                    @Override
                    public long expireAfterUpdate(Long id, Idle idle, long now, long current) {
                        return current;
                    }

                    @Override
                    public long expireAfterRead(Long id, Idle idle, long now, long current) {
                        return current;
                    }
                })
                .executor(events)
                .scheduler(Scheduler.systemScheduler())
                .ticker(ticker)
                .removalListener((Long id, Idle idle, RemovalCause cause) -> {
                    if (cause.wasEvicted() && idle != null) {
                        evicted.accept(idle.pooled);
                    }
                })
                .build();
        this.eviction = cache.policy().eviction().orElseThrow();
    }

    public long budgetMib() {
        return budgetMib;
    }

    /** Memory held by busy, starting and pinned instances. */
    public long reservedMib() {
        return reservedMib;
    }

    /** Memory held by evictable idle instances. */
    public long idleMib() {
        return eviction.weightedSize().orElse(0);
    }

    /**
     * Reserves {@code mib} for an instance that is starting or busy, evicting idle instances as
     * needed. False, and nothing changed, if even an empty cache would leave too little.
     */
    public boolean reserve(int mib) {
        if (reservedMib + mib > budgetMib) {
            return false;
        }
        reservedMib += mib;
        eviction.setMaximum(budgetMib - reservedMib);
        return true;
    }

    /** Gives back memory reserved for an instance that is gone or went idle. */
    public void unreserve(int mib) {
        reservedMib -= mib;
        if (reservedMib < 0) {
            throw new IllegalStateException("reserved memory went negative: " + reservedMib + " MiB");
        }
        eviction.setMaximum(budgetMib - reservedMib);
    }

    /**
     * Takes an idle instance of {@code key}, pinned ones first, else the most recently
     * returned. Its memory becomes reserved. Null if there is none.
     */
    public PooledInstance take(PoolKey key) {
        ArrayDeque<PooledInstance> pins = pinned.get(key);
        if (pins != null && !pins.isEmpty()) {
            return pins.pollLast(); // stays reserved
        }
        ArrayDeque<Long> ids = idleIds.get(key);
        while (ids != null && !ids.isEmpty()) {
            Idle idle = cache.asMap().remove(ids.pollLast());
            if (idle != null) {
                reserve(idle.pooled.memoryMib()); // cannot fail: the cache just gave the memory back
                return idle.pooled;
            }
        }
        return null;
    }

    /**
     * Returns a busy instance as idle. {@code pin}: keep it reserved, never evicted or
     * expired (a function's minimum). Otherwise its memory joins the cache for
     * {@code keepAlive}; a zero keep-alive hands it straight to the eviction callback's
     * caller to destroy: false is returned then.
     */
    public boolean putIdle(PooledInstance p, boolean pin, Duration keepAlive) {
        if (pin) {
            pinned.computeIfAbsent(p.key(), k -> new ArrayDeque<>()).addLast(p);
            return true;
        }
        unreserve(p.memoryMib());
        if (keepAlive.isZero()) {
            return false;
        }
        long id = p.instance().id();
        idleIds.computeIfAbsent(p.key(), k -> new ArrayDeque<>()).addLast(id);
        cache.put(id, new Idle(p, keepAlive));
        return true;
    }

    /** Called from the eviction callback, under the lock: forget the evicted id. */
    public void forget(PooledInstance p) {
        ArrayDeque<Long> ids = idleIds.get(p.key());
        if (ids != null) {
            ids.remove(p.instance().id());
        }
    }

    /** Removes an idle instance that died on its own (found by its id); its memory is freed. */
    public boolean removeDead(PooledInstance p) {
        ArrayDeque<PooledInstance> pins = pinned.get(p.key());
        if (pins != null && pins.remove(p)) {
            unreserve(p.memoryMib());
            return true;
        }
        forget(p);
        return cache.asMap().remove(p.instance().id()) != null;
    }

    /** Takes every idle instance of {@code key} out (pinned and cached), freeing their memory. */
    public List<PooledInstance> drain(PoolKey key) {
        List<PooledInstance> out = new ArrayList<>();
        ArrayDeque<PooledInstance> pins = pinned.remove(key);
        if (pins != null) {
            for (PooledInstance p : pins) {
                unreserve(p.memoryMib());
                out.add(p);
            }
        }
        ArrayDeque<Long> ids = idleIds.remove(key);
        if (ids != null) {
            for (Long id : ids) {
                Idle idle = cache.asMap().remove(id);
                if (idle != null) {
                    out.add(idle.pooled);
                }
            }
        }
        return out;
    }

    public int pinnedCount(PoolKey key) {
        ArrayDeque<PooledInstance> pins = pinned.get(key);
        return pins == null ? 0 : pins.size();
    }

    /** Idle instances of {@code key} in the cache (evictions not yet processed included). */
    public int cachedCount(PoolKey key) {
        ArrayDeque<Long> ids = idleIds.get(key);
        return ids == null ? 0 : ids.size();
    }

    /** Runs pending evictions and expirations now (they otherwise run on the events executor). */
    public void cleanUp() {
        cache.cleanUp();
    }
}
