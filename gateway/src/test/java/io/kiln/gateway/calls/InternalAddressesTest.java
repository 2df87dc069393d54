package io.kiln.gateway.calls;

import io.netty.util.NetUtil;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which addresses a callback may not reach, and the operator's ranges that open some. */
class InternalAddressesTest {

    private static InetAddress ip(String literal) {
        byte[] b = NetUtil.createByteArrayFromIpAddressString(literal);
        try {
            return InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** An IPv6 address kept as 16 bytes even when it is IPv4-mapped (InetAddress would make it IPv4). */
    private static InetAddress ip6(String literal) throws Exception {
        return java.net.Inet6Address.getByAddress(null, NetUtil.createByteArrayFromIpAddressString(literal), -1);
    }

    @Test
    void internalAddressesAndWhy() throws Exception {
        assertEquals("loopback (127/8)", InternalAddresses.why(ip("127.0.0.1")));
        assertEquals("loopback (127/8)", InternalAddresses.why(ip("127.255.3.4")));
        assertEquals("loopback (::1)", InternalAddresses.why(ip("::1")));
        assertEquals("unspecified", InternalAddresses.why(ip("0.0.0.0")));
        assertEquals("unspecified", InternalAddresses.why(ip("::")));
        assertEquals("\"this network\" (0/8)", InternalAddresses.why(ip("0.1.2.3")));
        assertEquals("private (10/8)", InternalAddresses.why(ip("10.0.0.1")));
        assertEquals("private (172.16/12)", InternalAddresses.why(ip("172.16.0.1")));
        assertEquals("private (172.16/12)", InternalAddresses.why(ip("172.31.255.255")));
        assertEquals("private (192.168/16)", InternalAddresses.why(ip("192.168.1.1")));
        assertEquals("carrier-grade NAT (100.64/10)", InternalAddresses.why(ip("100.64.0.1")));
        assertEquals("carrier-grade NAT (100.64/10)", InternalAddresses.why(ip("100.127.255.254")));
        assertEquals("link-local: the cloud metadata service", InternalAddresses.why(ip("169.254.169.254")));
        assertEquals("link-local (169.254/16)", InternalAddresses.why(ip("169.254.1.1")));
        assertEquals("link-local (fe80::/10)", InternalAddresses.why(ip("fe80::1")));
        assertEquals("unique local, private (fc00::/7)", InternalAddresses.why(ip("fd00::1")));
        assertEquals("unique local, private (fc00::/7)", InternalAddresses.why(ip("fc00::1")));
        assertEquals("multicast (224/4)", InternalAddresses.why(ip("224.0.0.1")));
        assertEquals("multicast (224/4)", InternalAddresses.why(ip("239.255.255.250")));
        assertEquals("multicast (ff00::/8)", InternalAddresses.why(ip("ff02::1")));
        assertEquals("broadcast", InternalAddresses.why(ip("255.255.255.255")));
        assertEquals("reserved (240/4)", InternalAddresses.why(ip("240.0.0.1")));
        assertEquals("documentation (192.0.2/24)", InternalAddresses.why(ip("192.0.2.10")));
        assertEquals("benchmarking (198.18/15)", InternalAddresses.why(ip("198.19.0.1")));
        // IPv6 forms that carry an IPv4 address are judged by it.
        assertEquals("loopback (127/8)", InternalAddresses.why(ip6("::ffff:127.0.0.1")));
        assertEquals("link-local: the cloud metadata service", InternalAddresses.why(ip6("::ffff:169.254.169.254")));
        assertEquals("private (10/8), carried in an IPv6 address", InternalAddresses.why(ip("64:ff9b::a00:1")));
        assertEquals("private (192.168/16), carried in an IPv6 address", InternalAddresses.why(ip("2002:c0a8:101::1")));
        assertEquals("loopback (127/8), carried in an IPv6 address", InternalAddresses.why(ip("::7f00:1")));
    }

    @Test
    void publicAddressesPass() throws Exception {
        for (String a : List.of("8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.0",
                "172.15.255.255", "172.32.0.0", "169.253.255.255", "223.255.255.255", "11.0.0.1",
                "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "64:ff9b::808:808", "2002:808:808::1")) {
            assertNull(InternalAddresses.why(ip(a)), a);
        }
        assertNull(InternalAddresses.why(ip6("::ffff:8.8.8.8")));
    }

    @Test
    void cidrParsingAndMatching() throws Exception {
        Cidr loop = Cidr.parse("127.0.0.1/32");
        assertTrue(loop.contains(ip("127.0.0.1")));
        assertFalse(loop.contains(ip("127.0.0.2")));
        assertTrue(loop.contains(ip6("::ffff:127.0.0.1")), "an IPv4-mapped address matches its IPv4 range");
        assertFalse(loop.contains(ip("::1")));
        assertEquals("127.0.0.1/32", loop.toString());
        assertEquals("10.1.2.3/32", Cidr.parse("10.1.2.3").toString());
        assertEquals("fd00::/8", Cidr.parse("fd00::/8").toString());
        assertTrue(Cidr.parse("fd00::/8").contains(ip("fd12::5")));
        assertTrue(Cidr.parse("0.0.0.0/0").contains(ip("10.9.9.9")));
        assertFalse(Cidr.parse("0.0.0.0/0").contains(ip("fd12::5")), "an IPv4 range holds no IPv6 address");
        assertEquals(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("::1/128")), Cidr.parseList("10.0.0.0/8, ::1"));
        assertEquals("\"localhost\" is not an address range: expected an IP address, optionally /PREFIX (like"
                + " 10.0.0.0/8 or fd00::/8)", assertThrows(IllegalArgumentException.class,
                () -> Cidr.parse("localhost")).getMessage());
        assertEquals("\"10.0.0.0/33\": the prefix after / must be 0 to 32", assertThrows(
                IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/33")).getMessage());
        assertEquals("\"10.0.0.0/x\": the prefix after / must be 0 to 32", assertThrows(
                IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/x")).getMessage());
        assertEquals("\"10.1.2.3/8\" has bits set past its /8 prefix; write the range's first address (10.0.0.0/8)",
                assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.1.2.3/8")).getMessage());
    }
}
