package com.example.hello;

import io.kiln.agent.testing.AgentProcess;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.kiln.agent.testing.AgentSession.expect;
import static io.kiln.agent.testing.AgentSession.meta;
import static io.kiln.agent.testing.AgentSession.text;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** target/hello.jar deployed into the real agent, as the README does it. */
class HelloIT {

    @Test
    void greets() throws Exception {
        try (AgentProcess a = AgentProcess.start()) {
            a.ready();
            byte[] jar = Files.readAllBytes(Path.of(System.getProperty("kiln.example.jar")));
            expect(a.load(jar, "com.example.hello.Hello"), InitializedFrame.class, 0);

            ResultFrame r = expect(a.invoke(1, "Ada"), ResultFrame.class, 1);
            assertEquals("Hello, Ada!", text(r));
            assertEquals("text/plain; charset=utf-8", meta(r).get("contentType").asText());

            assertEquals("Hello, world!", text(expect(a.invoke(2, ""), ResultFrame.class, 2)));
        }
    }
}
