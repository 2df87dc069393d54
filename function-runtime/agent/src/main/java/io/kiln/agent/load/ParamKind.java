package io.kiln.agent.load;

/** What the agent passes for each parameter of the handler method. */
public enum ParamKind {
    /** The call input, bound by the input type. */
    INPUT,
    /** A Kiln {@code io.kiln.function.Context}. */
    KILN_CONTEXT,
    /** A proxy implementing the function's own Lambda {@code Context}. */
    LAMBDA_CONTEXT,
    /** A stream collecting the output (the handler returns void). */
    OUTPUT_STREAM
}
