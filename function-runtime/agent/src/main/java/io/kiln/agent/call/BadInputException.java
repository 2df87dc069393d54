package io.kiln.agent.call;

/** The call's input cannot be bound to the handler's input type: the caller's fault. */
public final class BadInputException extends Exception {
    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
