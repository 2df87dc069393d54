package io.kiln.queue;

/**
 * Why an attempt failed.
 *
 * @param type      the function's exception type (function_error), or null
 * @param retryable false when trying the same input again cannot help (bad input, the function
 *                  is gone): the item is dead-lettered at once, whatever retries are left
 */
public record Failure(String code, String message, String type, boolean retryable) {

    public Failure(String code, String message, boolean retryable) {
        this(code, message, null, retryable);
    }
}
