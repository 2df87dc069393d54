package com.example.jsontransform;

import io.kiln.function.Context;
import io.kiln.function.Handler;

import java.math.BigDecimal;
import java.util.List;

/** An order in, an invoice out: a total per line, the grand total, and the due date. */
public final class Invoicer implements Handler<Order, Invoice> {

    static final int PAYMENT_TERM_DAYS = 30;

    @Override
    public Invoice handle(Order order, Context ctx) {
        if (order == null || order.placed() == null || order.lines() == null) {
            throw new IllegalArgumentException("expected an order with \"placed\" and \"lines\"");
        }
        List<Invoice.Line> lines = order.lines().stream()
                .map(l -> new Invoice.Line(l.sku(), l.quantity(), l.unitPrice(),
                        l.unitPrice().multiply(BigDecimal.valueOf(l.quantity()))))
                .toList();
        BigDecimal total = lines.stream().map(Invoice.Line::total)
                .reduce(BigDecimal.ZERO, BigDecimal::add);
        int items = lines.stream().mapToInt(Invoice.Line::quantity).sum();
        return new Invoice(order.id(), order.customer(), order.placed(),
                order.placed().plusDays(PAYMENT_TERM_DAYS), lines, items, total, order.tags());
    }
}
