package io.kiln.queue.schedule;

/**
 * What to do with fire times missed while nothing was firing (downtime, a paused loop): see
 * {@link Misfires#due}. A misfire is never silent: {@link Misfires.Due#missed()} says which fire
 * times were missed so the caller can record and log them.
 */
public enum MisfirePolicy {
  /** Fire once for all the missed fire times, at the latest of them. */
  FIRE_ONCE,
  /** Fire none of the missed fire times; wait for the next one. */
  SKIP
}
