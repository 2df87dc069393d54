package io.kiln.microvm.qemu;

import io.kiln.microvm.image.GuestImage;

import java.util.Objects;

/** The shape of a QEMU guest: which image, how it is accelerated, how big it is. */
public record QemuVmConfig(GuestImage image, Accelerator accelerator, int memoryMib, int vcpus, String extraKernelArgs) {

    public QemuVmConfig {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(accelerator, "accelerator");
        if (memoryMib < image.minimumMemoryMib()) {
            throw new IllegalArgumentException("guest image " + image.id() + " needs at least " + image.minimumMemoryMib()
                    + " MiB of memory (its initramfs is unpacked into RAM, then the JVM runs), got " + memoryMib);
        }
        if (vcpus < 1 || vcpus > 16) {
            throw new IllegalArgumentException("vcpus must be within 1..16, got " + vcpus);
        }
        extraKernelArgs = extraKernelArgs == null ? "" : extraKernelArgs.strip();
    }

    public String kernelCommandLine() {
        return extraKernelArgs.isEmpty() ? GuestImage.BASE_COMMAND_LINE : GuestImage.BASE_COMMAND_LINE + " " + extraKernelArgs;
    }
}
