package io.kiln.microvm.devices.virtio.console;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.devices.virtio.Virtio;
import io.kiln.microvm.devices.virtio.VirtioInterrupt;
import io.kiln.microvm.devices.virtio.mmio.MmioState;
import io.kiln.microvm.devices.virtio.mmio.MmioTransport;
import io.kiln.microvm.devices.virtio.queue.TestDriver;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The MULTIPORT control protocol byte by byte, the driver played by hand over plain memory: what
 * the device announces and in which order, when host bytes may flow, what a snapshot carries,
 * and every way a driver can break the protocol.
 */
class ConsoleControlTest {
    private static final long FEATURES = Virtio.F_VERSION_1 | ConsoleDevice.F_MULTIPORT;
    private static final long BUF = 0x40000;
    private static final byte[] PORT_ADD = {1, 0, 0, 0, 1, 0, 1, 0};
    private static final byte[] PORT_OPEN = {1, 0, 0, 0, 6, 0, 1, 0};
    private static final byte[] PORT_NAME = concat(new byte[] {1, 0, 0, 0, 7, 0, 1, 0},
            "kiln.channel".getBytes(StandardCharsets.US_ASCII));

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private interface Body {
        void run(ConsoleDevice d, TestDriver t, ControlDriver c) throws Exception;
    }

    /** A device whose driver took MULTIPORT and set up all six queues; the control protocol not begun. */
    private static void multiport(Body body) throws Exception {
        ConsoleDevice d = new ConsoleDevice();
        try (TestDriver t = new TestDriver(d).setUp(FEATURES)) {
            body.run(d, t, new ControlDriver(t));
        }
    }

    @Test
    void theDeviceAddsPortOneThenOpensAndNamesItOnceTheDriverIsReady() throws Exception {
        multiport((d, t, c) -> {
            c.post(4, 64);
            assertEquals(0, c.received().size(), "nothing before DEVICE_READY");
            c.send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 1);
            List<byte[]> got = c.received();
            assertEquals(1, got.size());
            assertArrayEquals(PORT_ADD, got.get(0));
            assertEquals(ConsoleState.Stage.ADDED, d.state().stage());
            assertEquals(1, t.takeUsed(ConsoleDevice.CONTROL_TX).size(), "DEVICE_READY's buffer given back");

            c.send(1, ControlMessage.PORT_READY, 1);
            got = c.received();
            assertEquals(2, got.size());
            assertArrayEquals(PORT_OPEN, got.get(0), "the host side is open before the name says the port is there");
            assertArrayEquals(PORT_NAME, got.get(1));
            assertEquals(new ConsoleState(FEATURES, false, ConsoleState.Stage.ANNOUNCED, false), d.state());

            c.send(1, ControlMessage.PORT_OPEN, 1);
            assertTrue(d.state().guestOpen());
            c.send(1, ControlMessage.PORT_OPEN, 0);
            assertFalse(d.state().guestOpen());
            assertEquals(0, c.received().size(), "nothing more to say");
            assertEquals(3, d.metrics().controlOut.get());
            assertEquals(4, d.metrics().controlIn.get());
            assertFalse(t.needsReset());
        });
    }

    @Test
    void owedMessagesWaitForTheDriversControlBuffers() throws Exception {
        multiport((d, t, c) -> {
            c.send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 1);
            assertEquals(ConsoleState.Stage.ADD_PENDING, d.state().stage());
            c.post(1, 64);
            assertArrayEquals(PORT_ADD, c.received().get(0));
            c.send(1, ControlMessage.PORT_READY, 1);
            assertEquals(ConsoleState.Stage.OPEN_PENDING, d.state().stage(), "PORT_ADD took the only buffer");
            assertEquals(0, c.received().size());
            c.post(1, 64);
            assertEquals(ConsoleState.Stage.NAME_PENDING, d.state().stage(), "one buffer, one message");
            assertArrayEquals(PORT_OPEN, c.received().get(0));
            c.post(1, 64);
            assertArrayEquals(PORT_NAME, c.received().get(0));
            assertEquals(ConsoleState.Stage.ANNOUNCED, d.state().stage());
        });
    }

    @Test
    void hostBytesWaitUntilTheGuestHasThePortOpenAndNoneAreLost() throws Exception {
        multiport((d, t, c) -> {
            d.setWakeup(d::processQueue);
            t.putDescriptor(ConsoleDevice.RX, 0, BUF, 64, ControlDriver.WRITE, 0);
            t.offer(ConsoleDevice.RX, 0, 1);
            t.notifyQueue(ConsoleDevice.RX);
            d.toGuest().write("early".getBytes(StandardCharsets.US_ASCII));
            c.post(4, 64);
            c.send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 1);
            c.send(1, ControlMessage.PORT_READY, 1);
            assertEquals(0, t.takeUsed(ConsoleDevice.RX).size(), "Linux would discard bytes for a port nobody has open");
            c.send(1, ControlMessage.PORT_OPEN, 1);
            List<int[]> used = t.takeUsed(ConsoleDevice.RX);
            assertEquals(1, used.size());
            assertArrayEquals("early".getBytes(StandardCharsets.US_ASCII), t.memory.read(BUF, used.get(0)[1]));

            c.send(1, ControlMessage.PORT_OPEN, 0);
            t.putDescriptor(ConsoleDevice.RX, 1, BUF + 0x100, 64, ControlDriver.WRITE, 0);
            t.offer(ConsoleDevice.RX, 1, 1);
            d.toGuest().write("later".getBytes(StandardCharsets.US_ASCII));
            assertEquals(0, t.takeUsed(ConsoleDevice.RX).size(), "closed again: the bytes wait");
            c.send(1, ControlMessage.PORT_OPEN, 1);
            used = t.takeUsed(ConsoleDevice.RX);
            assertEquals(1, used.size());
            assertArrayEquals("later".getBytes(StandardCharsets.US_ASCII), t.memory.read(BUF + 0x100, used.get(0)[1]));
        });
    }

    @Test
    void withoutMultiportTheDeviceHasNoPorts() throws Exception {
        ConsoleDevice d = new ConsoleDevice();
        try (TestDriver t = new TestDriver(d).setUp()) {
            t.putDescriptor(ConsoleDevice.PORT0_TX, 0, BUF, 4, 0, 0);
            t.offer(ConsoleDevice.PORT0_TX, 0, 1);
            t.notifyQueue(ConsoleDevice.PORT0_TX);
            new ControlDriver(t).send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 1);
            assertEquals(0, t.takeUsed(ConsoleDevice.PORT0_TX).size());
            assertEquals(0, t.takeUsed(ConsoleDevice.CONTROL_TX).size());
            assertEquals(0, d.fromGuest().available());
            assertFalse(t.needsReset());
        }
    }

    @Test
    void portZeroIsNeverAddedAndItsQueuesAreNotServed() throws Exception {
        multiport((d, t, c) -> {
            ControlDriver.open(t);
            t.putDescriptor(ConsoleDevice.PORT0_TX, 0, BUF, 4, 0, 0);
            t.offer(ConsoleDevice.PORT0_TX, 0, 1);
            t.notifyQueue(ConsoleDevice.PORT0_TX);
            assertEquals(0, t.takeUsed(ConsoleDevice.PORT0_TX).size());
            assertEquals(0, d.metrics().txBytes.get());
        });
    }

    @Test
    void aRestoredDeviceKeepsThePortOpenAndSendsWhatItStillOwed() throws Exception {
        multiport((before, t, c) -> {
            c.post(1, 64);
            c.send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 1);
            c.send(1, ControlMessage.PORT_READY, 1);
            c.send(1, ControlMessage.PORT_OPEN, 1); // the guest opened the port; PORT_OPEN still owed
            assertEquals(1, c.received().size(), "PORT_ADD took the only buffer");
            t.putDescriptor(ConsoleDevice.RX, 0, BUF, 64, ControlDriver.WRITE, 0);
            t.offer(ConsoleDevice.RX, 0, 1);
            t.notifyQueue(ConsoleDevice.RX);
            ConsoleState saved = before.state();
            assertEquals(new ConsoleState(FEATURES, false, ConsoleState.Stage.OPEN_PENDING, true), saved);
            MmioState transport = t.transport.state();

            // A clone: a new device and transport over the same guest memory, restored as KvmSnapshots does.
            ConsoleDevice clone = new ConsoleDevice();
            MmioTransport cloneTransport = new MmioTransport(clone, t.memory, new VirtioInterrupt(() -> { }), clone::processQueue);
            cloneTransport.restore(transport);
            clone.restore(saved);
            clone.setWakeup(clone::processQueue);
            for (int q = 0; q < 6; q++) {
                clone.processQueue(q); // kickAllQueues
            }
            c.lay(2, 64); // the old transport must not hear of them
            clone.processQueue(ConsoleDevice.CONTROL_RX);
            List<byte[]> got = c.received();
            assertEquals(2, got.size());
            assertArrayEquals(PORT_OPEN, got.get(0));
            assertArrayEquals(PORT_NAME, got.get(1));
            clone.toGuest().write("hello clone".getBytes(StandardCharsets.US_ASCII));
            List<int[]> used = t.takeUsed(ConsoleDevice.RX);
            assertEquals(1, used.size(), "the port is open in the clone");
            assertArrayEquals("hello clone".getBytes(StandardCharsets.US_ASCII), t.memory.read(BUF, used.get(0)[1]));
            assertEquals(new ConsoleState(FEATURES, false, ConsoleState.Stage.ANNOUNCED, true), clone.state());
        });
    }

    @Test
    void aDriverResetStartsTheProtocolAgain() throws Exception {
        multiport((d, t, c) -> {
            ControlDriver.open(t);
            t.write(0x70, 0);
            assertEquals(new ConsoleState(0, false, ConsoleState.Stage.WAITING_FOR_DRIVER, false), d.state());
        });
    }

    @Test
    void aDriverThatFailsToAddThePortGetsNoChannelAndIsNotPunished() throws Exception {
        multiport((d, t, c) -> {
            c.post(4, 64);
            c.send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 1);
            c.send(1, ControlMessage.PORT_READY, 0);
            assertEquals(1, c.received().size(), "PORT_ADD only");
            assertEquals(ConsoleState.Stage.ADDED, d.state().stage());
            assertTrue(d.metrics().lastError.get().contains("PORT_READY 0"), d.metrics().lastError.get());
            assertFalse(t.needsReset());
        });
    }

    // Malformed control messages: each puts the device in NEEDS_RESET, and a reset recovers it.

    private interface Attack {
        void run(ControlDriver c);
    }

    private static void assertMalformed(String expectedInError, Attack attack) throws Exception {
        multiport((d, t, c) -> {
            c.post(4, 64);
            attack.run(c);
            assertTrue(t.needsReset(), "device should need a reset: " + expectedInError);
            assertTrue(d.metrics().lastError.get().contains(expectedInError), d.metrics().lastError.get());
            assertTrue((t.read(0x60) & Virtio.INTERRUPT_CONFIG) != 0, "config interrupt raised");
            int usedBefore = t.takeUsed(ConsoleDevice.CONTROL_TX).size();
            c.send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 1);
            assertEquals(0, t.takeUsed(ConsoleDevice.CONTROL_TX).size(), "a stopped device serves nothing");
            assertTrue(usedBefore >= 1);
            t.write(0x70, 0);
            assertFalse(t.needsReset());
        });
    }

    @Test
    void aShortMessageNeedsReset() throws Exception {
        assertMalformed("control message of 4 bytes", c -> c.sendRaw(new byte[] {0, 0, 0, 0}));
    }

    @Test
    void anEmptyMessageNeedsReset() throws Exception {
        assertMalformed("control message of 0 bytes", c -> c.sendRaw(new byte[0]));
    }

    @Test
    void eventsOnlyTheDeviceSendsNeedReset() throws Exception {
        for (int event : new int[] {ControlMessage.PORT_ADD, ControlMessage.PORT_REMOVE, ControlMessage.CONSOLE_PORT,
                ControlMessage.RESIZE, ControlMessage.PORT_NAME, 8, 0xffff}) {
            assertMalformed("control event " + event + " is not one a driver sends", c -> c.send(1, event, 1));
        }
    }

    @Test
    void aPortThatDoesNotExistNeedsReset() throws Exception {
        assertMalformed("for port 0, which does not exist", c -> {
            c.send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 1);
            c.send(0, ControlMessage.PORT_READY, 1);
        });
        assertMalformed("for port 4294967295, which does not exist", c -> {
            c.send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 1);
            c.send(-1, ControlMessage.PORT_OPEN, 1);
        });
    }

    @Test
    void eventsOutOfOrderNeedReset() throws Exception {
        assertMalformed("PORT_READY for port 1 in stage WAITING_FOR_DRIVER", c -> c.send(1, ControlMessage.PORT_READY, 1));
        assertMalformed("PORT_OPEN for port 1 before it was added", c -> c.send(1, ControlMessage.PORT_OPEN, 1));
        assertMalformed("DEVICE_READY a second time", c -> {
            c.send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 1);
            c.send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 1);
        });
        assertMalformed("PORT_READY for port 1 in stage ANNOUNCED", c -> {
            c.send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 1);
            c.send(1, ControlMessage.PORT_READY, 1);
            c.send(1, ControlMessage.PORT_READY, 1);
        });
    }

    @Test
    void aValueOtherThanZeroOrOneNeedsReset() throws Exception {
        assertMalformed("with value 2", c -> c.send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 2));
    }

    @Test
    void aControlBufferTooSmallForTheMessageNeedsReset() throws Exception {
        multiport((d, t, c) -> {
            c.post(1, 64);
            c.send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 1);
            c.post(2, 16); // PORT_OPEN fits; PORT_NAME (20 bytes) does not
            c.send(1, ControlMessage.PORT_READY, 1);
            assertTrue(t.needsReset());
            assertTrue(d.metrics().lastError.get().contains("control receive buffer of 16 bytes; the message is 20"),
                    d.metrics().lastError.get());
        });
    }

    @Test
    void aControlBufferOutsideRamNeedsResetAndTouchesNothing() throws Exception {
        multiport((d, t, c) -> {
            t.putDescriptor(ConsoleDevice.CONTROL_RX, 0, TestDriver.RAM - 4, 64, ControlDriver.WRITE, 0);
            t.offer(ConsoleDevice.CONTROL_RX, 0, 1);
            c.send(ControlDriver.BAD_ID, ControlMessage.DEVICE_READY, 1);
            assertTrue(t.needsReset());
            assertTrue(d.metrics().lastError.get().contains("outside guest RAM"), d.metrics().lastError.get());
        });
    }
}
