package io.kiln.agent.load;

/** How a function's handler is called; reported in INITIALIZED as {@code "style"}. */
public enum HandlerStyle {
    /** {@code io.kiln.function.Handler<I,O>}. */
    KILN("kiln"),
    /** AWS Lambda {@code RequestStreamHandler}: raw bytes in, bytes written out. */
    LAMBDA_STREAM("lambda-stream"),
    /** AWS Lambda {@code RequestHandler<I,O>}. */
    LAMBDA("lambda"),
    /** {@code java.util.function.Function<I,O>}. */
    FUNCTION("function"),
    /** A method named as {@code Class::method}. */
    METHOD("method");

    private final String wireName;

    HandlerStyle(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }
}
