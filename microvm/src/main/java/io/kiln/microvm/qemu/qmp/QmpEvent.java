package io.kiln.microvm.qemu.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/** An asynchronous QMP event, e.g. {@code STOP}, {@code SHUTDOWN}, {@code MIGRATION}. */
public record QmpEvent(String name, JsonNode data) {
}
