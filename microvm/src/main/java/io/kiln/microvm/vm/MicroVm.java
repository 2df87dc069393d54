package io.kiln.microvm.vm;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * One microVM, independent of the engine behind it (the Java KVM engine, {@code KvmMicroVm},
 * or the QEMU engine, {@code QemuGuest}). The guest's function channel is a byte-stream pair; its console goes to the log sink
 * given in the config. Lifecycle calls block until the VM is in the requested state.
 */
public interface MicroVm extends AutoCloseable {
    /** Runs the guest: boots a created VM, or continues a restored one. */
    void start();

    void pause();

    void resume();

    /**
     * Pauses if needed and writes a snapshot into {@code directory}; the VM stays paused and
     * may then only be destroyed: an engine may hand the VM's memory over to the snapshot
     * (the QEMU engine does, which is what keeps its snapshots O(devices)).
     */
    void snapshot(Path directory) throws IOException;

    /** Stops the vCPUs and frees everything; idempotent. */
    void destroy();

    VmState state();

    /** Completes once, when the guest stops for good (reset, shutdown, error or destroy). */
    CompletableFuture<VmExit> exit();

    /**
     * Bytes the guest sends on the function channel. Once the guest has stopped, the stream
     * ends (read returns -1) after the last byte the guest sent: this end of stream is how the
     * host learns that an instance crashed, on every engine.
     */
    InputStream fromGuest();

    /** Bytes for the guest's function channel. */
    OutputStream toGuest();

    @Override
    default void close() {
        destroy();
    }
}
