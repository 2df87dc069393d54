package com.example.topicfanout;

/**
 * An order event as a plain topic subscription delivers it: the CloudEvent in its JSON form,
 * with the order inlined as {@code data}. Attributes this example does not need
 * ({@code specversion}, {@code datacontenttype}, extensions) are ignored when it is bound.
 *
 * @param id      unique per {@code source}: a redelivery of the same event has the same id
 * @param type    {@code order.created}, {@code order.paid}, {@code order.cancelled}, ...
 * @param subject the order's region and number, like {@code eu/A-1001}
 */
public record OrderEvent(String id, String source, String type, String subject, String time, Order data) {

    /** The order, as the shop publishes it. */
    public record Order(String orderId, String customer, java.math.BigDecimal total, String currency,
                        String reason) {
    }
}
