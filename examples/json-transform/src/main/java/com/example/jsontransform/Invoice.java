package com.example.jsontransform;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.List;

/** The output, written as JSON by the platform; dates as ISO strings. */
public record Invoice(String orderId, String customer, LocalDate placed, LocalDate due,
                      List<Line> lines, int itemCount, BigDecimal total, List<String> tags) {

    public record Line(String sku, int quantity, BigDecimal unitPrice, BigDecimal total) {
    }
}
