package io.kiln.agent.load;

import com.fasterxml.jackson.databind.JavaType;

import java.util.List;

/**
 * A handler ready to call: what to pass ({@link #params}), how to bind the input and map the
 * output ({@link #inputType}, {@link #outputType}, {@link #lambdaSemantics}), and the call itself.
 *
 * @param lambdaSemantics String inputs and outputs are JSON, as AWS Lambda does it (a Lambda
 *                        handler then behaves exactly as it did on Lambda); otherwise raw text
 * @param lambda          the function's Lambda types, or null if it has none
 */
public record ResolvedHandler(HandlerStyle style, Class<?> handlerClass, Object target,
                              Invoker invoker, List<ParamKind> params, JavaType inputType,
                              JavaType outputType, boolean lambdaSemantics, LambdaTypes lambda) {

    /** Calls the handler; throws whatever the handler threw, unwrapped. */
    @FunctionalInterface
    public interface Invoker {
        Object invoke(Object[] args) throws Throwable;
    }

    public boolean hasParam(ParamKind kind) {
        return params.contains(kind);
    }
}
