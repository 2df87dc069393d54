package io.kiln.gateway.calls;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;

/**
 * Which addresses are not the public internet: the gateway's own host, its networks, cloud
 * metadata services, and ranges no public receiver has. A callback to one of them would let
 * whoever submits a call make the gateway send requests inside the operator's network (SSRF).
 * The ranges are IANA's special-purpose registries (RFC 6890 and successors); IPv6 forms that
 * carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that IPv4 address.
 */
public final class InternalAddresses {

    private record Range(Cidr cidr, String why) {
        Range(String cidr, String why) {
            this(Cidr.parse(cidr), why);
        }
    }

    private static final List<Range> V4 = List.of(
            new Range("0.0.0.0/32", "unspecified"),
            new Range("0.0.0.0/8", "\"this network\" (0/8)"),
            new Range("10.0.0.0/8", "private (10/8)"),
            new Range("100.64.0.0/10", "carrier-grade NAT (100.64/10)"),
            new Range("127.0.0.0/8", "loopback (127/8)"),
            new Range("169.254.169.254/32", "link-local: the cloud metadata service"),
            new Range("169.254.0.0/16", "link-local (169.254/16)"),
            new Range("172.16.0.0/12", "private (172.16/12)"),
            new Range("192.0.0.0/24", "IETF protocol assignments (192.0.0/24)"),
            new Range("192.0.2.0/24", "documentation (192.0.2/24)"),
            new Range("192.88.99.0/24", "6to4 relay anycast (192.88.99/24)"),
            new Range("192.168.0.0/16", "private (192.168/16)"),
            new Range("198.18.0.0/15", "benchmarking (198.18/15)"),
            new Range("198.51.100.0/24", "documentation (198.51.100/24)"),
            new Range("203.0.113.0/24", "documentation (203.0.113/24)"),
            new Range("224.0.0.0/4", "multicast (224/4)"),
            new Range("255.255.255.255/32", "broadcast"),
            new Range("240.0.0.0/4", "reserved (240/4)"));

    private static final List<Range> V6 = List.of(
            new Range("::/128", "unspecified"),
            new Range("::1/128", "loopback (::1)"),
            new Range("100::/64", "discard-only (100::/64)"),
            new Range("2001:db8::/32", "documentation (2001:db8::/32)"),
            new Range("fc00::/7", "unique local, private (fc00::/7)"),
            new Range("fe80::/10", "link-local (fe80::/10)"),
            new Range("fec0::/10", "site-local (fec0::/10)"),
            new Range("ff00::/8", "multicast (ff00::/8)"));

    private static final Cidr COMPATIBLE = Cidr.parse("::/96");
    private static final Cidr NAT64 = Cidr.parse("64:ff9b::/96");
    private static final Cidr SIX_TO_FOUR = Cidr.parse("2002::/16");

    private InternalAddresses() {
    }

    /** Why {@code address} is internal ("loopback (127/8)", ...), or null for a public address. */
    public static String why(InetAddress address) {
        return why(Cidr.unmapped(address.getAddress()));
    }

    private static String why(byte[] bytes) {
        for (Range r : bytes.length == 4 ? V4 : V6) {
            if (r.cidr().contains(bytes)) {
                return r.why();
            }
        }
        if (bytes.length == 16) {
            // IPv6 addresses that a host or a translator turns into an IPv4 one: judged as that one.
            byte[] embedded = COMPATIBLE.contains(bytes) || NAT64.contains(bytes) ? Arrays.copyOfRange(bytes, 12, 16)
                    : SIX_TO_FOUR.contains(bytes) ? Arrays.copyOfRange(bytes, 2, 6) : null;
            String inner = embedded == null ? null : why(embedded);
            if (inner != null) {
                return inner + ", carried in an IPv6 address";
            }
        }
        return null;
    }
}
