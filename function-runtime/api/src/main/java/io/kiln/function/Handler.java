package io.kiln.function;

/**
 * A Kiln function: one call in, one result out.
 *
 * <p>The runtime binds {@code I} from the call and maps {@code O} back to the caller by type:
 * <ul>
 *   <li>{@code byte[]} and {@code String}: the raw body, untouched (a {@code String} is UTF-8);</li>
 *   <li>{@link java.io.InputStream} (input only): the raw body as a stream;</li>
 *   <li>{@link HttpRequest} / {@link HttpResponse}: the HTTP request as received by the gateway and
 *       the response to send back, status and headers included;</li>
 *   <li>anything else (records, POJOs, collections, generics such as
 *       {@code List<Map<String, Order>>}): JSON through Jackson, resolved from the type arguments
 *       of the implementing class.</li>
 * </ul>
 *
 * <p>The runtime calls one instance for every call of a function instance, one call at a time, so
 * fields may cache state between calls (connections, parsed configuration). State created before
 * the snapshot is shared by every clone restored from it; see {@link Lifecycle} for what to reset.
 *
 * <p>A JSON-bound input is {@code null} when the call had an empty body. A {@code null} output
 * is an empty body for {@code String}, {@code byte[]} and {@code Void} outputs, a 204 for
 * {@link HttpResponse}, and JSON {@code null} otherwise.
 *
 * @param <I> input type
 * @param <O> output type
 */
@FunctionalInterface
public interface Handler<I, O> {

    /**
     * Handles one call. A thrown exception becomes an error result for this call only: the
     * instance keeps serving. {@code throws Exception} so checked exceptions need no wrapping.
     */
    O handle(I input, Context ctx) throws Exception;
}
