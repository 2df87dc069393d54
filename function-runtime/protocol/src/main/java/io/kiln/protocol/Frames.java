package io.kiln.protocol;

import java.util.Arrays;
import java.util.Objects;

/** Value semantics for frames: records compare arrays by identity, frames by content. */
final class Frames {

    private Frames() {
    }

    static String metadata(String metadata) {
        return metadata == null ? "" : metadata;
    }

    static byte[] body(byte[] body) {
        return body == null || body.length == 0 ? Frame.NO_BODY : body;
    }

    static boolean equal(Frame a, Object o) {
        return o instanceof Frame b
                && a.type() == b.type()
                && a.callId() == b.callId()
                && a.metadata().equals(b.metadata())
                && Arrays.equals(a.body(), b.body());
    }

    static int hash(Frame f) {
        return Objects.hash(f.type(), f.callId(), f.metadata()) * 31 + Arrays.hashCode(f.body());
    }

    static String describe(Frame f) {
        return f.type() + "[call=" + Long.toUnsignedString(f.callId()) + ", metadata="
                + f.metadata() + ", body=" + f.body().length + " bytes]";
    }
}
