package io.kiln.agent;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.Frame;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Turns failures into ERROR frames: {@code {"code","message"}} and, for exceptions,
 * {@code "type"}, {@code "stack"} (trimmed to the user's frames) and a nested {@code "cause"}.
 */
public final class ErrorReport {

    /** Frames kept per exception: enough to find the line, small enough for a log view. */
    static final int MAX_FRAMES = 40;
    /** Causes followed; deeper chains are almost always wrappers of wrappers. */
    static final int MAX_CAUSES = 5;

    private ErrorReport() {
    }

    /** An ERROR without an exception. */
    public static ErrorFrame of(long callId, String code, String message) {
        return of(callId, code, message, null, null, Frame.NO_BODY);
    }

    /** An ERROR with extra metadata fields. */
    public static ErrorFrame of(long callId, String code, String message, ObjectNode extra) {
        return of(callId, code, message, null, extra, Frame.NO_BODY);
    }

    /** An ERROR describing {@code error}, with its message. */
    public static ErrorFrame of(long callId, String code, Throwable error) {
        return of(callId, code, messageOf(error), error, null, Frame.NO_BODY);
    }

    /**
     * The general form.
     *
     * @param error described as {@code type}, {@code stack}, {@code cause}; may be null
     * @param extra merged into the metadata; may be null
     * @param body  attached raw (the init log on init failure)
     */
    public static ErrorFrame of(long callId, String code, String message, Throwable error,
                                ObjectNode extra, byte[] body) {
        ObjectNode meta = Json.object().put("code", code).put("message", cut(message));
        if (extra != null) {
            meta.setAll(extra);
        }
        if (error != null) {
            describe(meta, error, new IdentityHashMap<>(), 0);
        }
        return new ErrorFrame(callId, Json.write(meta), body);
    }

    /** A thread's current stack, trimmed like an exception's: where a function was stuck. */
    public static ArrayNode stackOf(StackTraceElement[] stack) {
        return frames(stack);
    }

    /** Messages are cut so that no exception can push an ERROR over the metadata cap. */
    static final int MAX_MESSAGE_CHARS = 8 * 1024;

    static String cut(String message) {
        if (message == null || message.length() <= MAX_MESSAGE_CHARS) {
            return message;
        }
        return message.substring(0, MAX_MESSAGE_CHARS) + "... (" + (message.length() - MAX_MESSAGE_CHARS)
                + " more characters)";
    }

    static String messageOf(Throwable t) {
        return t.getMessage() != null ? t.getMessage() : t.getClass().getName();
    }

    private static void describe(ObjectNode node, Throwable t, Map<Throwable, Boolean> seen,
                                 int depth) {
        seen.put(t, true);
        node.put("type", t.getClass().getName());
        if (!node.has("message")) {
            node.put("message", cut(t.getMessage() == null ? "" : t.getMessage()));
        }
        node.set("stack", frames(t.getStackTrace()));
        Throwable cause = t.getCause();
        if (cause != null && depth < MAX_CAUSES && !seen.containsKey(cause)) {
            ObjectNode c = Json.object();
            describe(c, cause, seen, depth + 1);
            node.set("cause", c);
        }
    }

    /**
     * The user's part of a stack: from the top down to the first frame of the agent or of the
     * reflection that called into user code; everything below is the same in every report.
     */
    private static ArrayNode frames(StackTraceElement[] stack) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        int kept = 0;
        for (int i = 0; i < stack.length; i++) {
            StackTraceElement e = stack[i];
            if (isRuntimeFrame(e.getClassName())) {
                break;
            }
            if (kept == MAX_FRAMES) {
                out.add("...");
                break;
            }
            if (isBridge(stack, i)) {
                continue;
            }
            out.add(e.getClassName() + "." + e.getMethodName() + "("
                    + (e.getFileName() == null ? "Unknown Source" : e.getFileName())
                    + (e.getLineNumber() >= 0 ? ":" + e.getLineNumber() : "") + ")");
            kept++;
        }
        return out;
    }

    /**
     * The compiler's bridge for a generic interface ({@code handle(Object, Context)} calling
     * {@code handle(String, Context)}): the frame right above the runtime with the same method
     * as the frame before it. Noise in every report, so dropped.
     */
    private static boolean isBridge(StackTraceElement[] stack, int i) {
        return i > 0 && i + 1 < stack.length && isRuntimeFrame(stack[i + 1].getClassName())
                && stack[i].getClassName().equals(stack[i - 1].getClassName())
                && stack[i].getMethodName().equals(stack[i - 1].getMethodName());
    }

    private static boolean isRuntimeFrame(String className) {
        return className.startsWith("io.kiln.agent.")
                || className.startsWith("jdk.internal.reflect.")
                || className.equals("java.lang.reflect.Method");
    }

    /**
     * Whether a throwable means the JVM can no longer be trusted: a VirtualMachineError
     * (OutOfMemoryError, InternalError, UnknownError) anywhere in the cause chain. A
     * StackOverflowError is not: the stack has unwound and the heap is intact.
     */
    public static boolean isFatal(Throwable t) {
        return fatalIn(t);
    }

    /** Lets a fatal throwable through (see {@link #isFatal}); returns if it is not fatal. */
    public static void rethrowIfFatal(Throwable t) {
        if (fatalIn(t)) {
            if (t instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(t);
        }
    }

    private static boolean fatalIn(Throwable t) {
        for (int depth = 0; t != null && depth <= MAX_CAUSES; t = t.getCause(), depth++) {
            if (t instanceof VirtualMachineError && !(t instanceof StackOverflowError)) {
                return true;
            }
        }
        return false;
    }
}
