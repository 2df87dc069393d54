package io.kiln.microvm.boot;

import io.kiln.microvm.kvm.CpuidEntry;
import io.kiln.microvm.kvm.Kvm;
import io.kiln.microvm.kvm.KvmException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The host CPU as a guest sees it through KVM: the vendor, family/model/stepping (leaf 1 EAX
 * decoded as the vendors' manuals say) and a SHA-256 of KVM_GET_SUPPORTED_CPUID. A snapshot
 * records the one it was taken on, because its CPUID, its XSAVE layout and its MSRs only make
 * sense on a CPU that offers the same features. The hash leaves out the fields that name the
 * physical CPU the ioctl happened to run on (leaf 1 EBX[31:24], 0xB/0x1F EDX, 0x8000001E EAX and
 * EBX[7:0]), so it is the same on every core of one host.
 */
public record HostCpu(String vendor, int family, int model, int stepping, String cpuidSha256) {
    private static volatile HostCpu current;

    public static HostCpu of(List<CpuidEntry> supported) {
        int signature = 0;
        MessageDigest sha = sha256();
        ByteBuffer b = ByteBuffer.allocate(28);
        for (CpuidEntry e : supported) {
            int ebx = e.ebx();
            int ecx = e.ecx();
            int edx = e.edx();
            int eax = e.eax();
            switch (e.function()) {
                case 1 -> {
                    signature = e.eax();
                    ebx &= 0x00ffffff;
                }
                case 0xb, 0x1f -> edx = 0;
                case 0x8000001e -> {
                    eax = 0;
                    ebx &= ~0xff;
                }
                default -> {
                }
            }
            b.clear();
            b.putInt(e.function()).putInt(e.index()).putInt(e.flags()).putInt(eax).putInt(ebx).putInt(ecx).putInt(edx);
            sha.update(b.array());
        }
        int baseFamily = (signature >>> 8) & 0xf;
        int family = baseFamily == 0xf ? baseFamily + ((signature >>> 20) & 0xff) : baseFamily;
        int baseModel = (signature >>> 4) & 0xf;
        int model = baseFamily == 6 || baseFamily == 0xf ? (((signature >>> 16) & 0xf) << 4) + baseModel : baseModel;
        return new HostCpu(CpuidConfig.vendorId(supported), family, model, signature & 0xf,
                HexFormat.of().formatHex(sha.digest()));
    }

    /** This host's CPU, from /dev/kvm (read once per JVM). */
    public static HostCpu current() {
        HostCpu c = current;
        if (c == null) {
            try (Kvm kvm = Kvm.open()) {
                c = of(kvm.supportedCpuid());
            }
            current = c;
        }
        return c;
    }

    /**
     * Twelve hex digits that change whenever any field does: what snapshot directories are keyed
     * by, so that snapshots from another CPU are rebuilt rather than restored.
     */
    public String fingerprint() {
        MessageDigest sha = sha256();
        sha.update(toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(sha.digest()).substring(0, 12);
    }

    /** {@link #current()}'s fingerprint, or {@code "no-kvm"} where /dev/kvm cannot be opened (nothing restores there). */
    public static String currentFingerprint() {
        try {
            return current().fingerprint();
        } catch (KvmException | UnsatisfiedLinkError e) {
            return "no-kvm";
        }
    }

    /** For messages: "AuthenticAMD family 0x19 model 0x1 stepping 1, KVM CPUID sha256 0123456789ab…". */
    public String describe() {
        return String.format("%s family 0x%x model 0x%x stepping %d, KVM CPUID sha256 %s…", vendor, family, model, stepping,
                cpuidSha256.substring(0, Math.min(12, cpuidSha256.length())));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
