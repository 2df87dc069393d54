package io.kiln.agent.load;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.type.TypeBindings;
import com.fasterxml.jackson.databind.type.TypeFactory;
import io.kiln.function.Context;
import io.kiln.function.Handler;

import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/**
 * Finds how to call a function from its handler name.
 *
 * <p>{@code com.example.Fn}: the class must implement one of, in this order of preference, Kiln
 * {@link Handler}, Lambda {@code RequestStreamHandler}, Lambda {@code RequestHandler}, or
 * {@link Function}. {@code com.example.Fn::name}: a public method of that name (static, or on an
 * instance made with the no-argument constructor) taking the input and optionally a Kiln or
 * Lambda context, or {@code (InputStream, OutputStream[, context])}; with overloads, the one
 * with the most parameters wins, as on Lambda.
 *
 * <p>Input and output types come from the generic signature, resolved through superclasses and
 * interfaces ({@code class Fn extends Base<List<Map<String, Order>>>} binds that exact type).
 */
public final class HandlerResolver {

    private final TypeFactory types;

    public HandlerResolver(TypeFactory types) {
        this.types = types;
    }

    /** Loads and initialises the class (running static initialisers) and resolves the handler. */
    public ResolvedHandler resolve(ClassLoader loader, LoadSpec spec) throws InitFailure {
        Class<?> cls = initialise(loader, spec.className());
        LambdaTypes lambda = LambdaTypes.find(loader);
        return spec.methodName() == null ? byInterface(cls, lambda) : byMethod(cls, spec, lambda);
    }

    private static Class<?> initialise(ClassLoader loader, String name) throws InitFailure {
        Class<?> cls;
        try {
            cls = Class.forName(name, false, loader);
        } catch (ClassNotFoundException e) {
            throw new InitFailure("load", "handler class " + name + " not found in the jar", e);
        } catch (LinkageError e) {
            throw new InitFailure("load", "handler class " + name + " cannot be linked: " + e, e);
        }
        try {
            return Class.forName(name, true, loader);
        } catch (ExceptionInInitializerError e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new InitFailure("static_init", "static initialisation of " + name
                    + " failed: " + cause, cause);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new InitFailure("load", "handler class " + name + " cannot be initialised: "
                    + e, e);
        }
    }

    private ResolvedHandler byInterface(Class<?> cls, LambdaTypes lambda) throws InitFailure {
        JavaType self = types.constructType(cls);
        if (Handler.class.isAssignableFrom(cls)) {
            JavaType[] io = typeArgs(self, Handler.class);
            @SuppressWarnings("unchecked")
            Handler<Object, Object> h = (Handler<Object, Object>) instantiate(cls);
            return new ResolvedHandler(HandlerStyle.KILN, cls, h,
                    args -> h.handle(args[0], (Context) args[1]),
                    List.of(ParamKind.INPUT, ParamKind.KILN_CONTEXT), io[0], io[1], false, lambda);
        }
        if (lambda != null && lambda.streamHandler() != null
                && lambda.streamHandler().isAssignableFrom(cls)) {
            Method m = interfaceMethod(lambda.streamHandler(), "handleRequest",
                    java.io.InputStream.class, OutputStream.class, lambda.context());
            Object target = instantiate(cls);
            return new ResolvedHandler(HandlerStyle.LAMBDA_STREAM, cls, target,
                    reflective(m, target),
                    List.of(ParamKind.INPUT, ParamKind.OUTPUT_STREAM, ParamKind.LAMBDA_CONTEXT),
                    types.constructType(java.io.InputStream.class),
                    types.constructType(void.class), true, lambda);
        }
        if (lambda != null && lambda.requestHandler() != null
                && lambda.requestHandler().isAssignableFrom(cls)) {
            JavaType[] io = typeArgs(self, lambda.requestHandler());
            Method m = interfaceMethod(lambda.requestHandler(), "handleRequest", Object.class,
                    lambda.context());
            Object target = instantiate(cls);
            return new ResolvedHandler(HandlerStyle.LAMBDA, cls, target, reflective(m, target),
                    List.of(ParamKind.INPUT, ParamKind.LAMBDA_CONTEXT), io[0], io[1], true,
                    lambda);
        }
        if (Function.class.isAssignableFrom(cls)) {
            JavaType[] io = typeArgs(self, Function.class);
            @SuppressWarnings("unchecked")
            Function<Object, Object> f = (Function<Object, Object>) instantiate(cls);
            return new ResolvedHandler(HandlerStyle.FUNCTION, cls, f, args -> f.apply(args[0]),
                    List.of(ParamKind.INPUT), io[0], io[1], false, lambda);
        }
        throw new InitFailure("handler", cls.getName() + " implements none of "
                + "io.kiln.function.Handler, java.util.function.Function, Lambda RequestHandler "
                + "or RequestStreamHandler; implement one or name a method as "
                + cls.getName() + "::method", null);
    }

    private ResolvedHandler byMethod(Class<?> cls, LoadSpec spec, LambdaTypes lambda)
            throws InitFailure {
        String name = spec.methodName();
        List<Method> named = Arrays.stream(cls.getMethods())
                .filter(m -> m.getName().equals(name) && !m.isBridge() && !m.isSynthetic())
                .sorted(Comparator.comparingInt(Method::getParameterCount).reversed())
                .toList();
        if (named.isEmpty()) {
            throw new InitFailure("handler", "no public method " + name + " in " + cls.getName(),
                    null);
        }
        if (named.size() > 1
                && named.get(0).getParameterCount() == named.get(1).getParameterCount()) {
            throw new InitFailure("handler", "ambiguous handler " + spec.handler() + ": "
                    + named.size() + " public methods of that name with "
                    + named.get(0).getParameterCount() + " parameters", null);
        }
        Method m = named.get(0);
        JavaType owner = types.constructType(cls);
        JavaType declaring = owner.findSuperType(m.getDeclaringClass());
        TypeBindings bindings = declaring == null ? TypeBindings.emptyBindings()
                : declaring.getBindings();

        List<ParamKind> params = new ArrayList<>();
        JavaType input = types.constructType(void.class);
        Class<?>[] raw = m.getParameterTypes();
        for (int i = 0; i < raw.length; i++) {
            ParamKind kind = raw[i] == Context.class ? ParamKind.KILN_CONTEXT
                    : lambda != null && raw[i] == lambda.context() ? ParamKind.LAMBDA_CONTEXT
                    : raw[i] == OutputStream.class ? ParamKind.OUTPUT_STREAM
                    : ParamKind.INPUT;
            if (params.contains(kind)) {
                throw new InitFailure("handler", spec.handler() + " takes two parameters of kind "
                        + kind + "; a handler takes one input and optionally a context", null);
            }
            if (kind == ParamKind.INPUT) {
                input = types.resolveMemberType(m.getGenericParameterTypes()[i], bindings);
            }
            params.add(kind);
        }
        if ((params.contains(ParamKind.KILN_CONTEXT) && params.contains(ParamKind.LAMBDA_CONTEXT))
                || (params.contains(ParamKind.OUTPUT_STREAM) && m.getReturnType() != void.class)) {
            throw new InitFailure("handler", spec.handler() + " has an unsupported signature: "
                    + m.toGenericString(), null);
        }
        JavaType output = types.resolveMemberType(m.getGenericReturnType(), bindings);
        Object target = Modifier.isStatic(m.getModifiers()) ? null : instantiate(cls);
        m.setAccessible(true); // a public method of a package-private class
        return new ResolvedHandler(HandlerStyle.METHOD, cls, target, reflective(m, target),
                List.copyOf(params), input, output, params.contains(ParamKind.LAMBDA_CONTEXT),
                lambda);
    }

    /** The two type arguments of {@code iface} as implemented by {@code self}; Object if raw. */
    private JavaType[] typeArgs(JavaType self, Class<?> iface) {
        JavaType[] args = self.findTypeParameters(iface);
        if (args == null || args.length < 2) {
            JavaType object = types.constructType(Object.class);
            return new JavaType[]{object, object};
        }
        return args;
    }

    private static Method interfaceMethod(Class<?> iface, String name, Class<?>... params)
            throws InitFailure {
        try {
            return iface.getMethod(name, params);
        } catch (NoSuchMethodException e) {
            throw new InitFailure("handler", iface.getName() + " has no " + name
                    + ": an unsupported aws-lambda-java-core version?", e);
        }
    }

    private static Object instantiate(Class<?> cls) throws InitFailure {
        Constructor<?> c;
        try {
            c = cls.getDeclaredConstructor();
            c.setAccessible(true);
        } catch (NoSuchMethodException e) {
            throw new InitFailure("construct", cls.getName()
                    + " needs a no-argument constructor", e);
        }
        try {
            return c.newInstance();
        } catch (InvocationTargetException e) {
            throw new InitFailure("construct", "constructor of " + cls.getName() + " failed: "
                    + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new InitFailure("construct", "cannot construct " + cls.getName() + ": " + e, e);
        } catch (ExceptionInInitializerError e) {
            throw new InitFailure("static_init", "static initialisation failed: " + e.getCause(),
                    e.getCause());
        }
    }

    /** A reflective call that rethrows what the method threw rather than the wrapper. */
    private static ResolvedHandler.Invoker reflective(Method m, Object target) {
        m.setAccessible(true);
        return args -> {
            try {
                return m.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
    }
}
