package com.example.topicfanout;

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

/** target/topic-fanout.jar in the real agent, fed the CloudEvents a plain subscription delivers. */
class TopicFanoutIT {

    static final String CREATED = "{\"specversion\":\"1.0\",\"id\":\"o-1\",\"source\":\"/shop\","
            + "\"type\":\"order.created\",\"subject\":\"eu/A-1001\",\"datacontenttype\":\"application/json\","
            + "\"data\":{\"orderId\":\"A-1001\",\"customer\":\"Ada Lovelace\",\"total\":34.00,\"currency\":\"EUR\"}}";
    static final String CANCELLED = "{\"specversion\":\"1.0\",\"id\":\"o-2\",\"source\":\"/shop\","
            + "\"type\":\"order.cancelled\",\"subject\":\"eu/A-1001\",\"datacontenttype\":\"application/json\","
            + "\"data\":{\"orderId\":\"A-1001\",\"customer\":\"Ada Lovelace\",\"total\":34.00,\"currency\":\"EUR\","
            + "\"reason\":\"changed my mind\"}}";

    static byte[] jar() throws Exception {
        return Files.readAllBytes(Path.of(System.getProperty("kiln.example.jar")));
    }

    @Test
    void theLedgerBooksEveryOrderEvent() throws Exception {
        try (AgentProcess a = AgentProcess.start()) {
            a.ready();
            expect(a.load(jar(), "com.example.topicfanout.OrderLedger"), InitializedFrame.class, 0);
            assertEquals("{\"eventId\":\"o-1\",\"type\":\"order.created\",\"orderId\":\"A-1001\",\"amount\":34.00,"
                    + "\"currency\":\"EUR\"}", text(expect(a.invoke(1, CREATED), ResultFrame.class, 1)));
            assertEquals("ledger o-1 order.created A-1001 +34.00 EUR\n", a.log(1, "log"));
            assertEquals("{\"eventId\":\"o-2\",\"type\":\"order.cancelled\",\"orderId\":\"A-1001\",\"amount\":-34.00,"
                    + "\"currency\":\"EUR\"}", text(expect(a.invoke(2, CANCELLED), ResultFrame.class, 2)));
        }
    }

    @Test
    void refundsAreIssuedForCancelledOrdersOnly() throws Exception {
        try (AgentProcess a = AgentProcess.start()) {
            a.ready();
            expect(a.load(jar(), "com.example.topicfanout.RefundIssuer"), InitializedFrame.class, 0);
            assertEquals("{\"refundId\":\"refund-o-2\",\"orderId\":\"A-1001\",\"customer\":\"Ada Lovelace\","
                    + "\"amount\":34.00,\"currency\":\"EUR\",\"reason\":\"changed my mind\"}",
                    text(expect(a.invoke(1, CANCELLED), ResultFrame.class, 1)));
            ErrorFrame wrong = expect(a.invoke(2, CREATED), ErrorFrame.class, 2);
            assertEquals("function_error", meta(wrong).get("code").asText());
            assertEquals("expected an order.cancelled event, got order.created", meta(wrong).get("message").asText());
        }
    }
}
