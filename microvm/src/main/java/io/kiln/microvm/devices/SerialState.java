package io.kiln.microvm.devices;

/** The 8250's registers and unread input, as saved in a snapshot. */
public record SerialState(int ier, int lcr, int mcr, int scr, int dll, int dlm, boolean thrEmptyPending,
                          byte[] pendingInput) {
}
