package io.kiln.invoker;

import io.kiln.microvm.jail.JailUnavailableException;
import io.kiln.microvm.jail.Jailer;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Whether this node's VMMs run in jails ({@code --jail}), and why: what {@code /healthz} says.
 *
 * @param jailer the jailer, when jails are on
 * @param mode   the configured mode: {@code auto}, {@code on} or {@code off}
 * @param cgroup {@code v1} or {@code v2}, the cgroup version the groups' limits live in; null when off
 * @param why    the reason, in a sentence
 */
public record JailChoice(Optional<Jailer> jailer, String mode, String cgroup, String why) {

    /** The accepted modes: {@code auto} = on where root, the jailer and cgroups make it possible. */
    public static final List<String> MODES = List.of("auto", "on", "off");

    public boolean enabled() {
        return jailer.isPresent();
    }

    /**
     * Resolves {@code mode} for {@code engine} (the configured engine name): {@code off} never
     * looks for a jailer, {@code auto} takes jails where {@code locate} finds them working and
     * says why not otherwise, {@code on} fails start-up with that reason.
     */
    public static JailChoice resolve(String mode, String engine, Supplier<Jailer> locate) {
        if (mode.equals("off")) {
            return new JailChoice(Optional.empty(), mode, null, "configured: off (VMMs run as this process's user)");
        }
        if ("process".equals(engine)) {
            if (mode.equals("on")) {
                throw new IllegalArgumentException("--jail on: the process engine runs no VMM to jail (use a VM engine)");
            }
            return new JailChoice(Optional.empty(), mode, null, "auto: the process engine runs no VMM to jail");
        }
        try {
            Jailer jailer = locate.get();
            return new JailChoice(Optional.of(jailer), mode, jailer.cgroups().version().name().toLowerCase(),
                    mode + ": " + jailer.describe());
        } catch (JailUnavailableException e) {
            if (mode.equals("on")) {
                throw new IllegalArgumentException("--jail on, but jails cannot work here: " + e.getMessage(), e);
            }
            return new JailChoice(Optional.empty(), mode, null, "auto: off, " + e.getMessage());
        }
    }
}
