package com.example.topicfanout;

import io.kiln.function.Context;
import io.kiln.function.Handler;

import java.math.BigDecimal;

/**
 * Subscribed to every order event: books each one in the ledger. A created order is money owed
 * (+total), a cancelled one takes it back (-total), anything else moves nothing but is still
 * recorded. The entry goes to the function's log (a ledger service would be called here) and
 * is the call's result.
 */
public final class OrderLedger implements Handler<OrderEvent, OrderLedger.Entry> {

    /** One ledger line. {@code eventId} is the key: a redelivered event is the same line, not a second one. */
    public record Entry(String eventId, String type, String orderId, BigDecimal amount, String currency) {
    }

    @Override
    public Entry handle(OrderEvent e, Context ctx) {
        if (e == null || e.data() == null || e.data().orderId() == null) {
            throw new IllegalArgumentException("expected an order event with data.orderId");
        }
        BigDecimal total = e.data().total() == null ? BigDecimal.ZERO : e.data().total();
        BigDecimal amount = switch (e.type()) {
            case "order.created" -> total;
            case "order.cancelled" -> total.negate();
            default -> BigDecimal.ZERO;
        };
        Entry entry = new Entry(e.id(), e.type(), e.data().orderId(), amount, e.data().currency());
        ctx.logger().log("ledger " + entry.eventId() + " " + entry.type() + " " + entry.orderId() + " "
                + (amount.signum() > 0 ? "+" : "") + amount.toPlainString() + " " + entry.currency());
        return entry;
    }
}
