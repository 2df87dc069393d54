package io.kiln.invoker.logs;

/**
 * One line of a function's output.
 *
 * @param seq      increasing per function; a follower resumes after the last it saw
 * @param callId   the call it belongs to, formatted ({@code CallRequest.format}); empty for
 *                 init, restore and idle time
 * @param stream   {@code stdout}, {@code stderr}, {@code log}, {@code kiln} (the agent), or
 *                 {@code console} (the guest's serial console)
 */
public record LogLine(long seq, long epochMs, String function, long version, long instanceId, String callId,
                      String stream, String text) {
}
