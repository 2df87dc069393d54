package com.example.topicfanout;

import io.kiln.function.Context;
import io.kiln.function.Handler;

/**
 * Subscribed to cancelled orders only (the subscription's filter is
 * {@code type=order.cancelled}): issues the refund. Delivery is at least once, so the refund
 * id is derived from the event id: a payment provider that deduplicates on it refunds a
 * redelivered event once.
 */
public final class RefundIssuer implements Handler<OrderEvent, RefundIssuer.Refund> {

    public record Refund(String refundId, String orderId, String customer, java.math.BigDecimal amount,
                         String currency, String reason) {
    }

    @Override
    public Refund handle(OrderEvent e, Context ctx) {
        if (e == null || !"order.cancelled".equals(e.type()) || e.data() == null) {
            // The filter keeps other events away; getting one means the subscription is wrong.
            throw new IllegalArgumentException("expected an order.cancelled event, got "
                    + (e == null ? "nothing" : e.type()));
        }
        OrderEvent.Order o = e.data();
        Refund r = new Refund("refund-" + e.id(), o.orderId(), o.customer(), o.total(), o.currency(),
                o.reason() == null ? "cancelled" : o.reason());
        ctx.logger().log("refund " + r.refundId() + " of " + r.amount().toPlainString() + " " + r.currency()
                + " to " + r.customer() + " for " + r.orderId());
        return r;
    }
}
