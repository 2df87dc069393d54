package io.kiln.agent;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The agent's version, from a filtered resource so it is right also when run from classes. */
final class AgentVersion {

    static final String VALUE = load();

    private AgentVersion() {
    }

    private static String load() {
        try (InputStream in = AgentVersion.class.getResourceAsStream("/kiln-agent.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
