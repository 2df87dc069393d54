package com.example.jsontransform;

import io.kiln.agent.testing.AgentProcess;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.kiln.agent.testing.AgentSession.expect;
import static io.kiln.agent.testing.AgentSession.meta;
import static io.kiln.agent.testing.AgentSession.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** target/json-transform.jar deployed into the real agent, as the README does it. */
class InvoicerIT {

    @Test
    void ordersBecomeInvoices() throws Exception {
        try (AgentProcess a = AgentProcess.start()) {
            a.ready();
            byte[] jar = Files.readAllBytes(Path.of(System.getProperty("kiln.example.jar")));
            expect(a.load(jar, "com.example.jsontransform.Invoicer"), InitializedFrame.class, 0);

            ResultFrame r = expect(a.invoke(1, """
                    {"id":"A-1001","customer":"Ada Lovelace","placed":"2026-10-22",
                     "lines":[{"sku":"PEN-01","quantity":3,"unitPrice":2.50},
                              {"sku":"NB-A5","quantity":2,"unitPrice":7.25},
                              {"sku":"INK-B","quantity":1,"unitPrice":12.00}],
                     "tags":["priority","gift"]}"""), ResultFrame.class, 1);
            assertEquals("application/json", meta(r).get("contentType").asText());
            assertEquals("{\"orderId\":\"A-1001\",\"customer\":\"Ada Lovelace\","
                    + "\"placed\":\"2026-10-22\",\"due\":\"2026-11-21\",\"lines\":["
                    + "{\"sku\":\"PEN-01\",\"quantity\":3,\"unitPrice\":2.50,\"total\":7.50},"
                    + "{\"sku\":\"NB-A5\",\"quantity\":2,\"unitPrice\":7.25,\"total\":14.50},"
                    + "{\"sku\":\"INK-B\",\"quantity\":1,\"unitPrice\":12.00,\"total\":12.00}],"
                    + "\"itemCount\":6,\"total\":34.00,\"tags\":[\"priority\",\"gift\"]}", text(r));

            ErrorFrame badDate = expect(a.invoke(2, "{\"placed\":\"22/10/2026\",\"lines\":[]}"),
                    ErrorFrame.class, 2);
            assertEquals("bad_input", meta(badDate).get("code").asText());
            assertTrue(meta(badDate).get("message").asText().contains("22/10/2026"),
                    badDate.toString());

            ErrorFrame noLines = expect(a.invoke(3, "{\"placed\":\"2026-10-22\"}"),
                    ErrorFrame.class, 3);
            assertEquals("function_error", meta(noLines).get("code").asText());
            assertEquals("expected an order with \"placed\" and \"lines\"",
                    meta(noLines).get("message").asText());
        }
    }
}
