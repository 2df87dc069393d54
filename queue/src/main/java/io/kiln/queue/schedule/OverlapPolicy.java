package io.kiln.queue.schedule;

/**
 * What to do when a schedule fires while the run it enqueued last time has not ended (still
 * queued or running). The firing loop enforces it; this module only defines it.
 */
public enum OverlapPolicy {
  /**
   * The firing is recorded as skipped (with its fire time and the reason "previous run still in
   * progress") and nothing is enqueued; the schedule still advances past that fire time.
   */
  SKIP,
  /** The firing is enqueued anyway, so runs of the schedule may overlap. */
  ALLOW
}
