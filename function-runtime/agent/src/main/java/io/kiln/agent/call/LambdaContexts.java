package io.kiln.agent.call;

import io.kiln.agent.load.LambdaTypes;
import io.kiln.agent.log.LogRouter;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;

/**
 * AWS Lambda {@code Context} and {@code LambdaLogger} for a call, as dynamic proxies of the
 * function's own interfaces: the agent does not depend on aws-lambda-java-core, and the
 * function's copy of it may be any version. Methods are answered by name; methods this class
 * does not know (added in later versions) use their default body if they have one, else return
 * null / 0 / false.
 *
 * <p>The values (docs/API.md, "Lambda handlers"): the request id is the call id as the platform
 * shows it; the log group is {@code /kiln/<function>} and the log stream
 * {@code <function>/<version>}, the place {@code kiln logs <function>} reads; the ARN is
 * {@code kiln:function:<function>:<version>}; the remaining time counts down to the call's
 * deadline on the monotonic clock; identity and client context are null.
 */
public final class LambdaContexts {

    private LambdaContexts() {
    }

    /** A {@code com.amazonaws.services.lambda.runtime.Context} for one call. */
    public static Object context(LambdaTypes types, CallContext call, int memoryMb,
                                 LogRouter logs) {
        Object logger = types.logger() == null ? null : logger(types, logs);
        ClassLoader loader = types.context().getClassLoader();
        InvocationHandler h = (proxy, method, args) -> switch (method.getName()) {
            case "getAwsRequestId" -> call.requestId();
            case "getLogGroupName" -> "/kiln/" + call.functionName();
            case "getLogStreamName" -> call.functionName() + "/" + call.functionVersion();
            case "getFunctionName" -> call.functionName();
            case "getFunctionVersion" -> call.functionVersion();
            case "getInvokedFunctionArn" ->
                    "kiln:function:" + call.functionName() + ":" + call.functionVersion();
            case "getRemainingTimeInMillis" ->
                    (int) Math.min(Integer.MAX_VALUE, call.remainingTime().toMillis());
            case "getMemoryLimitInMB" -> memoryMb;
            case "getLogger" -> logger;
            default -> fallback(proxy, method, args, call.toString());
        };
        return Proxy.newProxyInstance(loader, new Class<?>[]{types.context()}, h);
    }

    private static Object logger(LambdaTypes types, LogRouter logs) {
        InvocationHandler h = (proxy, method, args) -> {
            if (method.getName().equals("log") && args != null && args.length >= 1
                    && !method.isDefault()) {
                if (args[0] instanceof String s) {
                    logs.line("log", s);
                } else if (args[0] instanceof byte[] b) {
                    logs.line("log", new String(b, StandardCharsets.UTF_8));
                }
                return null;
            }
            return fallback(proxy, method, args, "LambdaLogger");
        };
        return Proxy.newProxyInstance(types.logger().getClassLoader(),
                new Class<?>[]{types.logger()}, h);
    }

    private static Object fallback(Object proxy, Method method, Object[] args, String name)
            throws Throwable {
        if (method.isDefault()) {
            return InvocationHandler.invokeDefault(proxy, method, args);
        }
        return switch (method.getName()) {
            case "toString" -> name;
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            default -> zero(method.getReturnType());
        };
    }

    private static Object zero(Class<?> type) {
        if (!type.isPrimitive() || type == void.class) {
            return null;
        }
        if (type == boolean.class) {
            return false;
        }
        if (type == char.class) {
            return '\0';
        }
        if (type == long.class) {
            return 0L;
        }
        if (type == float.class) {
            return 0f;
        }
        if (type == double.class) {
            return 0d;
        }
        if (type == byte.class) {
            return (byte) 0;
        }
        if (type == short.class) {
            return (short) 0;
        }
        return 0;
    }
}
