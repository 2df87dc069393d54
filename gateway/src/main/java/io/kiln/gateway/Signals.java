package io.kiln.gateway;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * SIGTERM and SIGINT handled by the gateway itself, not by a JVM shutdown hook: shutdown hooks
 * run all at once, and the QEMU engine's hook destroys every VM at exit, which would kill the
 * calls the drain is waiting for. So the drain runs first, started by the signal, and only
 * then does the JVM exit (and run the hooks). Through {@code sun.misc.Signal} (module
 * jdk.unsupported), reached by reflection so the build has no warning about internal API.
 */
final class Signals {

    private Signals() {
    }

    /** Runs {@code onSignal} once, on its own thread, at the first SIGTERM or SIGINT; false if signals cannot be handled. */
    static boolean onTerminate(Runnable onSignal) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Method handle = signal.getMethod("handle", signal, handlerType);
            AtomicBoolean started = new AtomicBoolean();
            InvocationHandler h = (proxy, method, args) -> switch (method.getName()) {
                case "handle" -> {
                    if (started.compareAndSet(false, true)) {
                        new Thread(onSignal, "kiln-signal-shutdown").start();
                    }
                    yield null;
                }
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                default -> "kiln signal handler";
            };
            Object handler = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handlerType}, h);
            for (String name : new String[] {"TERM", "INT"}) {
                handle.invoke(null, signal.getConstructor(String.class).newInstance(name), handler);
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }
}
