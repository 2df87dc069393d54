package io.kiln.invoker;

import io.kiln.microvm.jail.JailUnavailableException;
import io.kiln.microvm.jail.Jailer;
import org.junit.jupiter.api.Test;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The --jail modes where no jail can be had (the jailed cases run for real in GatewayJailTest). */
class JailChoiceTest {

    private static final Supplier<Jailer> UNAVAILABLE = () -> {
        throw new JailUnavailableException("jails need root (to enter namespaces, mount and switch uid); this is uid 1000");
    };
    private static final Supplier<Jailer> NEVER = () -> {
        throw new AssertionError("the jailer must not be looked for");
    };

    @Test
    void offNeverLooksForAJailer() {
        JailChoice c = JailChoice.resolve("off", "qemu-tcg", NEVER);
        assertFalse(c.enabled());
        assertEquals("configured: off (VMMs run as this process's user)", c.why());
    }

    @Test
    void autoSaysWhyJailsAreOff() {
        assertEquals("auto: off, jails need root (to enter namespaces, mount and switch uid); this is uid 1000",
                JailChoice.resolve("auto", "auto", UNAVAILABLE).why());
        assertEquals("auto: the process engine runs no VMM to jail", JailChoice.resolve("auto", "process", NEVER).why());
    }

    @Test
    void onRefusesToStartWithTheReason() {
        assertEquals("--jail on, but jails cannot work here: jails need root (to enter namespaces, mount and switch uid); this is uid 1000",
                assertThrows(IllegalArgumentException.class, () -> JailChoice.resolve("on", "qemu-tcg", UNAVAILABLE)).getMessage());
        assertEquals("--jail on: the process engine runs no VMM to jail (use a VM engine)",
                assertThrows(IllegalArgumentException.class, () -> JailChoice.resolve("on", "process", NEVER)).getMessage());
    }
}
