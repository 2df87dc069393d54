package io.kiln.agent;

import io.kiln.agent.load.LoadedFunction;
import io.kiln.protocol.Frame;

/**
 * What a job on the function thread produced.
 *
 * @param reply  the frame to send (RESULT, INITIALIZED, RESTORED or ERROR)
 * @param loaded the initialised function, for a successful init; otherwise null
 * @param fatal  the JVM can no longer be trusted: send {@code reply}, then exit
 */
record JobResult(Frame reply, LoadedFunction loaded, boolean fatal) {

    static JobResult reply(Frame reply) {
        return new JobResult(reply, null, false);
    }
}
