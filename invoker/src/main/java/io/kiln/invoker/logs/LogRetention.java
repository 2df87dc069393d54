package io.kiln.invoker.logs;

import java.time.Duration;

/**
 * How much of a function's log stays on disk: at most {@code maxBytes} in its directory and no
 * line older than {@code maxAge}, both enforced by deleting whole segments, oldest first. The
 * segment being written is never deleted for size, so the older ones are trimmed to
 * {@code maxBytes - segmentBytes} and the directory stays under {@code maxBytes}.
 *
 * @param segmentBytes a segment is rolled (closed, a new one begun) before it would grow past this
 */
public record LogRetention(long maxBytes, Duration maxAge, long segmentBytes) {

    public static final long MIB = 1024 * 1024;
    public static final long DEFAULT_MIB = 64;
    public static final int DEFAULT_DAYS = 7;
    /** 1 TiB and 100 years: bounds that keep the arithmetic whole. */
    public static final long MAX_MIB = 1024 * 1024;
    public static final long MAX_DAYS = 36_500;
    /** Segments of at most 8 MiB, or a quarter of a smaller cap. */
    public static final long MAX_SEGMENT_BYTES = 8 * MIB;

    public LogRetention {
        if (segmentBytes < 1 || maxBytes < 2 * segmentBytes) {
            throw new IllegalArgumentException("a log needs room for two segments: maxBytes " + maxBytes
                    + ", segmentBytes " + segmentBytes);
        }
        if (maxAge.isNegative() || maxAge.isZero()) {
            throw new IllegalArgumentException("maxAge must be positive, got " + maxAge);
        }
    }

    /** 64 MiB and 7 days per function. */
    public static LogRetention defaults() {
        return of(DEFAULT_MIB, DEFAULT_DAYS);
    }

    /** {@code mib} MiB and {@code days} days per function, in segments of 8 MiB or a quarter of the cap. */
    public static LogRetention of(long mib, long days) {
        if (mib < 1 || mib > MAX_MIB) {
            throw new IllegalArgumentException("log retention must be from 1 to " + MAX_MIB + " MiB, got " + mib);
        }
        if (days < 1 || days > MAX_DAYS) {
            throw new IllegalArgumentException("log retention must be from 1 to " + MAX_DAYS + " days, got " + days);
        }
        long bytes = mib * MIB;
        return new LogRetention(bytes, Duration.ofDays(days), Math.min(MAX_SEGMENT_BYTES, bytes / 4));
    }
}
