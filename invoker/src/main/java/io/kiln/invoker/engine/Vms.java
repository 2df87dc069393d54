package io.kiln.invoker.engine;

import io.kiln.microvm.vm.MicroVm;

/** What every VM engine does after creating a VM. */
final class Vms {

    private Vms() {
    }

    /** Starts {@code vm}; a VM that fails to start is destroyed, never leaked. */
    static MicroVm started(MicroVm vm) {
        try {
            vm.start();
            return vm;
        } catch (RuntimeException e) {
            vm.destroy();
            throw e;
        }
    }
}
