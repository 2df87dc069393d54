package io.kiln.function;

import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class KilnTest {

    @Test
    void registrationsAreKeptInOrderAndDispatchedToTheRightHook() throws Exception {
        int from = Kiln.registered().size();
        List<String> ran = new ArrayList<>();
        Kiln.beforeSnapshot(() -> ran.add("before"));
        Kiln.onRestore(() -> ran.add("restore"));
        Kiln.register(new Lifecycle() {
            @Override
            public void afterRestore() {
                ran.add("lifecycle");
            }
        });
        List<Lifecycle> hooks = Kiln.registered().subList(from, Kiln.registered().size());
        assertEquals(3, hooks.size());
        for (Lifecycle l : hooks) {
            l.beforeSnapshot();
        }
        for (Lifecycle l : hooks) {
            l.afterRestore();
        }
        assertEquals(List.of("before", "restore", "lifecycle"), ran);
    }

    @Test
    void reseedOnRestoreChangesTheStreamOfAFixedSeedGenerator() throws Exception {
        SecureRandom a = SecureRandom.getInstance("SHA1PRNG");
        SecureRandom b = SecureRandom.getInstance("SHA1PRNG");
        a.setSeed(7L);
        b.setSeed(7L);
        int from = Kiln.registered().size();
        Kiln.reseedOnRestore(a);
        Kiln.registered().get(from).afterRestore();
        byte[] x = new byte[16];
        byte[] y = new byte[16];
        a.nextBytes(x);
        b.nextBytes(y);
        assertNotEquals(java.util.HexFormat.of().formatHex(y), java.util.HexFormat.of().formatHex(x));
    }
}
