package io.kiln.microvm.vm;

import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What to build: vCPUs, memory, kernel, optional initrd, command line, devices and where the
 * serial console goes. The VMM appends the {@code virtio_mmio.device=} entries itself.
 */
public record MicroVmConfig(int vcpus, int memoryMib, Path kernel, Path initrd, String commandLine,
                            boolean functionChannel, boolean rng, OutputStream consoleLog) {
    public MicroVmConfig {
        if (vcpus < 1 || vcpus > 64) {
            throw new IllegalArgumentException("vcpus must be 1..64: " + vcpus);
        }
        if (memoryMib < 2) {
            throw new IllegalArgumentException("memory must be at least 2 MiB: " + memoryMib);
        }
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(commandLine, "commandLine");
        Objects.requireNonNull(consoleLog, "consoleLog");
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int vcpus = 1;
        private int memoryMib = 128;
        private Path kernel;
        private Path initrd;
        private String commandLine = "console=ttyS0 reboot=k panic=1";
        private boolean functionChannel = true;
        private boolean rng = true;
        private OutputStream consoleLog = OutputStream.nullOutputStream();

        public Builder vcpus(int v) {
            this.vcpus = v;
            return this;
        }

        public Builder memoryMib(int v) {
            this.memoryMib = v;
            return this;
        }

        public Builder kernel(Path v) {
            this.kernel = v;
            return this;
        }

        public Builder initrd(Path v) {
            this.initrd = v;
            return this;
        }

        public Builder commandLine(String v) {
            this.commandLine = v;
            return this;
        }

        public Builder functionChannel(boolean v) {
            this.functionChannel = v;
            return this;
        }

        public Builder rng(boolean v) {
            this.rng = v;
            return this;
        }

        public Builder consoleLog(OutputStream v) {
            this.consoleLog = v;
            return this;
        }

        public MicroVmConfig build() {
            return new MicroVmConfig(vcpus, memoryMib, kernel, initrd, commandLine, functionChannel, rng, consoleLog);
        }
    }
}
