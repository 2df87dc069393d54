package io.kiln.gateway.api;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** /healthz's version is the build's (kiln init pins a new project's function API to it). */
class HealthVersionTest {

    @Test
    void theVersionIsTheProjectVersionTheBuildFiltersIn() {
        assertEquals(System.getProperty("kiln.project.version"), HealthApi.VERSION);
    }
}
