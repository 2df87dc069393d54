package io.kiln.gateway.calls;

import io.netty.util.NetUtil;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An address range written {@code ADDRESS/PREFIX} ({@code 10.0.0.0/8}, {@code fd00::/8}); a bare
 * address is its own /32 or /128. Only IP literals: a range is never looked up by name, so
 * parsing one cannot touch DNS. IPv4 ranges match IPv4 addresses (and IPv4-mapped IPv6 ones,
 * which {@link #of} turns into IPv4), IPv6 ranges IPv6 addresses.
 *
 * @param network the range's first address, as 4 or 16 bytes (bits past the prefix are zero)
 * @param prefix  how many leading bits an address must share with {@code network}
 */
public record Cidr(List<Byte> network, int prefix) {

    public Cidr {
        if (network.size() != 4 && network.size() != 16) {
            throw new IllegalArgumentException("a range's address has 4 or 16 bytes, got " + network.size());
        }
        if (prefix < 0 || prefix > network.size() * 8) {
            throw new IllegalArgumentException("prefix must be 0 to " + network.size() * 8 + ", got " + prefix);
        }
        network = List.copyOf(network);
    }

    /** Parses {@code text}; IllegalArgumentException saying what is wrong else. */
    public static Cidr parse(String text) {
        String t = text.strip();
        int slash = t.indexOf('/');
        String address = slash < 0 ? t : t.substring(0, slash);
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(address);
        if (bytes == null) {
            throw new IllegalArgumentException("\"" + text + "\" is not an address range: expected an IP address,"
                    + " optionally /PREFIX (like 10.0.0.0/8 or fd00::/8)");
        }
        bytes = unmapped(bytes);
        int prefix = bytes.length * 8;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(t.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > bytes.length * 8) {
                throw new IllegalArgumentException("\"" + text + "\": the prefix after / must be 0 to "
                        + bytes.length * 8);
            }
        }
        byte[] masked = bytes.clone();
        for (int bit = prefix; bit < masked.length * 8; bit++) {
            masked[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        if (!Arrays.equals(masked, bytes)) {
            // 10.1.2.3/8 is most likely a typo for 10.1.2.3/32 or 10.0.0.0/8: opening the wrong one is worse.
            throw new IllegalArgumentException("\"" + text + "\" has bits set past its /" + prefix
                    + " prefix; write the range's first address (" + format(masked) + "/" + prefix + ")");
        }
        return new Cidr(boxed(masked), prefix);
    }

    /** Comma-separated ranges (blanks ignored). */
    public static List<Cidr> parseList(String text) {
        List<Cidr> out = new ArrayList<>();
        for (String part : text.split(",")) {
            if (!part.isBlank()) {
                out.add(parse(part));
            }
        }
        return out;
    }

    /** Whether {@code address} is in this range. */
    public boolean contains(InetAddress address) {
        return contains(unmapped(address.getAddress()));
    }

    boolean contains(byte[] bytes) {
        if (bytes.length != network.size()) {
            return false;
        }
        for (int bit = 0; bit < prefix; bit++) {
            int mask = 0x80 >>> (bit % 8);
            if ((bytes[bit / 8] & mask) != (network.get(bit / 8) & mask)) {
                return false;
            }
        }
        return true;
    }

    /** An IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}) as its IPv4 address; others as they are. */
    static byte[] unmapped(byte[] bytes) {
        if (bytes.length == 16) {
            for (int i = 0; i < 10; i++) {
                if (bytes[i] != 0) {
                    return bytes;
                }
            }
            if (bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff) {
                return Arrays.copyOfRange(bytes, 12, 16);
            }
        }
        return bytes;
    }

    private static List<Byte> boxed(byte[] bytes) {
        List<Byte> out = new ArrayList<>(bytes.length);
        for (byte b : bytes) {
            out.add(b);
        }
        return out;
    }

    private static String format(byte[] bytes) {
        try {
            return NetUtil.toAddressString(InetAddress.getByAddress(bytes));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e); // 4 or 16 bytes: cannot happen
        }
    }

    @Override
    public String toString() {
        byte[] bytes = new byte[network.size()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = network.get(i);
        }
        return format(bytes) + "/" + prefix;
    }
}
