package com.example.jsontransform;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.List;

/** The input, bound from JSON by the platform. {@code placed} arrives as {@code "2026-10-22"}. */
public record Order(String id, String customer, LocalDate placed, List<Line> lines,
                    List<String> tags) {

    public record Line(String sku, int quantity, BigDecimal unitPrice) {
    }
}
