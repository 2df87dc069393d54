package io.kiln.gateway.calls;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.kiln.gateway.http.ApiError;
import io.kiln.gateway.http.CallErrors;
import io.kiln.gateway.http.Reply;
import io.kiln.invoker.call.CallResult;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * The async calls of the last hour, in memory (they do not survive a restart). Bounded: about
 * {@link #MAX_RECORDS} records, where a record with a result body counts once more per
 * {@link #WEIGHT_UNIT} bytes of it, so at most some 160 MiB of results are held; beyond that
 * Caffeine drops the records least likely to be asked for again. A record expires an hour after
 * its call ended (or was accepted, while it runs).
 */
public final class CallRecords {

    public static final long MAX_RECORDS = 10_000;
    static final int WEIGHT_UNIT = 16 * 1024;

    private final Cache<Long, CallRecord> records;
    private final Consumer<CallRecord> ended;

    /** @param ended called with each record when its call ends (the callback sender) */
    public CallRecords(Duration ttl, Consumer<CallRecord> ended) {
        this.records = Caffeine.newBuilder()
                .maximumWeight(MAX_RECORDS)
                .weigher((Long id, CallRecord r) -> 1 + r.weightBytes() / WEIGHT_UNIT)
                .expireAfterWrite(ttl)
                .build();
        this.ended = ended;
    }

    public CallRecord create(long callId, String function, String callback) {
        CallRecord r = new CallRecord(callId, function, callback);
        records.put(callId, r);
        return r;
    }

    public CallRecord get(long callId) {
        return records.getIfPresent(callId);
    }

    public void forget(long callId) {
        records.invalidate(callId);
    }

    /** Records the call's end; put again so the weight counts the body and the hour starts now. */
    public void finish(CallRecord r, CallResult result, Throwable error) {
        if (error == null) {
            try {
                r.succeeded(Reply.of(result));
            } catch (ApiError e) {
                r.failed(e);
            }
        } else {
            r.failed(CallErrors.of(error));
        }
        records.put(r.callId(), r);
        ended.accept(r);
    }

    public long size() {
        return records.estimatedSize();
    }
}
