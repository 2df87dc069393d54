package io.kiln.queue;

/**
 * Why an attempt failed.
 *
 * @param retryable false when trying the same input again cannot help (bad input, the function
 *                  is gone): the item is dead-lettered at once, whatever retries are left
 */
public record Failure(String code, String message, boolean retryable) {
}
