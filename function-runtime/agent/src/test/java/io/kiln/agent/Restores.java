package io.kiln.agent;

import io.kiln.protocol.RestoredFrame;

import java.util.Arrays;

/** RESTORED frames as a host sends them. */
final class Restores {

    private Restores() {
    }

    /** {@code length} bytes of entropy, all {@code fill}: distinct fills make distinct clones. */
    static RestoredFrame frame(long epochMs, int length, byte fill) {
        byte[] entropy = new byte[length];
        Arrays.fill(entropy, fill);
        return new RestoredFrame("{\"epochMs\":" + epochMs + "}", entropy);
    }
}
