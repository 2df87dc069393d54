package io.kiln.microvm.devices;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;

/**
 * A 16550A-compatible UART at the usual COM1 ports: transmitted bytes go to a log sink, bytes
 * queued with {@link #enqueueInput} are received by the guest, with THR-empty and
 * received-data interrupts. No real line timing: the transmitter is always ready.
 */
public final class Serial8250 implements BusDevice {
    public static final int COM1_PORT = 0x3f8;
    public static final int COM1_IRQ = 4;
    public static final int PORT_COUNT = 8;

    private static final int DATA = 0;
    private static final int IER = 1;
    private static final int IIR_FCR = 2;
    private static final int LCR = 3;
    private static final int MCR = 4;
    private static final int LSR = 5;
    private static final int MSR = 6;
    private static final int SCR = 7;

    private static final int IER_RDA = 0x01;
    private static final int IER_THRE = 0x02;
    private static final int IIR_NONE = 0x01;
    private static final int IIR_THRE = 0x02;
    private static final int IIR_RDA = 0x04;
    private static final int IIR_FIFO = 0xc0;
    private static final int LCR_DLAB = 0x80;
    private static final int LSR_DR = 0x01;
    private static final int LSR_THRE = 0x20;
    private static final int LSR_TEMT = 0x40;
    private static final int MSR_DEFAULT = 0xb0; // DCD, DSR, CTS asserted: a connected line
    private static final int INPUT_CAPACITY = 64 * 1024;

    private final OutputStream sink;
    private final InterruptLine interrupt;
    private final ArrayDeque<Byte> input = new ArrayDeque<>();
    private int ier;
    private int lcr = 0x03;
    private int mcr = 0x08;
    private int scr;
    private int dll = 0x0c;
    private int dlm;
    private boolean thrEmptyPending;

    public Serial8250(OutputStream sink, InterruptLine interrupt) {
        this.sink = sink;
        this.interrupt = interrupt;
    }

    /** Bytes for the guest to read; beyond the buffer they are dropped, as a real UART would. */
    public void enqueueInput(byte[] bytes) {
        boolean raise;
        synchronized (this) {
            for (byte b : bytes) {
                if (input.size() < INPUT_CAPACITY) {
                    input.add(b);
                }
            }
            raise = (ier & IER_RDA) != 0 && !input.isEmpty();
        }
        if (raise) {
            interrupt.trigger();
        }
    }

    @Override
    public void read(long offset, byte[] data) {
        if (data.length != 1) {
            java.util.Arrays.fill(data, (byte) 0xff);
            return;
        }
        data[0] = (byte) readRegister((int) offset);
    }

    private synchronized int readRegister(int reg) {
        switch (reg) {
            case DATA:
                if ((lcr & LCR_DLAB) != 0) {
                    return dll;
                }
                Byte b = input.poll();
                return b == null ? 0 : b & 0xff;
            case IER:
                return (lcr & LCR_DLAB) != 0 ? dlm : ier;
            case IIR_FCR:
                int iir;
                if ((ier & IER_RDA) != 0 && !input.isEmpty()) {
                    iir = IIR_RDA;
                } else if ((ier & IER_THRE) != 0 && thrEmptyPending) {
                    iir = IIR_THRE;
                    thrEmptyPending = false; // reading IIR acknowledges THR-empty
                } else {
                    iir = IIR_NONE;
                }
                return iir | IIR_FIFO;
            case LCR:
                return lcr;
            case MCR:
                return mcr;
            case LSR:
                return LSR_THRE | LSR_TEMT | (input.isEmpty() ? 0 : LSR_DR);
            case MSR:
                return MSR_DEFAULT;
            case SCR:
                return scr;
            default:
                return 0xff;
        }
    }

    @Override
    public void write(long offset, byte[] data) {
        if (data.length != 1) {
            return;
        }
        boolean raise = false;
        int v = data[0] & 0xff;
        synchronized (this) {
            switch ((int) offset) {
                case DATA -> {
                    if ((lcr & LCR_DLAB) != 0) {
                        dll = v;
                    } else {
                        emit(v);
                        thrEmptyPending = true;
                        raise = (ier & IER_THRE) != 0;
                    }
                }
                case IER -> {
                    if ((lcr & LCR_DLAB) != 0) {
                        dlm = v;
                    } else {
                        ier = v & 0x0f;
                        // Enabling THRE with an empty transmitter interrupts at once (Linux probes this).
                        if ((ier & IER_THRE) != 0) {
                            thrEmptyPending = true;
                            raise = true;
                        }
                        raise |= (ier & IER_RDA) != 0 && !input.isEmpty();
                    }
                }
                case LCR -> lcr = v;
                case MCR -> mcr = v;
                case SCR -> scr = v;
                default -> {
                    // FCR, LSR, MSR writes: nothing to emulate.
                }
            }
        }
        if (raise) {
            interrupt.trigger();
        }
    }

    private void emit(int b) {
        try {
            sink.write(b);
            if (b == '\n') {
                sink.flush();
            }
        } catch (IOException e) {
            // A broken log sink must not stop the guest; the byte is lost.
        }
    }

    /** Register state for snapshots (input not yet read by the guest is included). */
    public synchronized SerialState state() {
        byte[] pending = new byte[input.size()];
        int i = 0;
        for (Byte b : input) {
            pending[i++] = b;
        }
        return new SerialState(ier, lcr, mcr, scr, dll, dlm, thrEmptyPending, pending);
    }

    public synchronized void restore(SerialState s) {
        ier = s.ier();
        lcr = s.lcr();
        mcr = s.mcr();
        scr = s.scr();
        dll = s.dll();
        dlm = s.dlm();
        thrEmptyPending = s.thrEmptyPending();
        input.clear();
        for (byte b : s.pendingInput()) {
            input.add(b);
        }
    }
}
