package io.kiln.microvm.jail;

import java.util.Objects;

/** A VM's jail: the jailer that builds it and the group the VM belongs to. */
public record Jail(Jailer jailer, VmGroup group) {

    public Jail {
        Objects.requireNonNull(jailer, "jailer");
        Objects.requireNonNull(group, "group");
    }
}
