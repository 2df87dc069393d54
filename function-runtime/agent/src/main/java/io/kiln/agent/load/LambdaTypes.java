package io.kiln.agent.load;

/**
 * The AWS Lambda interfaces as the function's own loader sees them (from the function's bundled
 * {@code aws-lambda-java-core}); the agent never links to them, it only finds them by name.
 */
public record LambdaTypes(Class<?> context, Class<?> logger, Class<?> requestHandler,
                          Class<?> streamHandler) {

    static final String PACKAGE = "com.amazonaws.services.lambda.runtime.";

    /** The Lambda types visible to {@code loader}, or null if it has no Lambda core. */
    static LambdaTypes find(ClassLoader loader) {
        Class<?> context = load(loader, "Context");
        if (context == null) {
            return null;
        }
        return new LambdaTypes(context, load(loader, "LambdaLogger"),
                load(loader, "RequestHandler"), load(loader, "RequestStreamHandler"));
    }

    private static Class<?> load(ClassLoader loader, String simpleName) {
        try {
            return Class.forName(PACKAGE + simpleName, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }
}
