package io.kiln.agent.lambda;

import com.amazonaws.services.lambda.runtime.serialization.PojoSerializer;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import com.amazonaws.services.lambda.runtime.serialization.factories.JacksonFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * AWS event types ({@code aws-lambda-java-events}) bound and written exactly as Lambda's Java
 * runtime does it, with AWS's own {@code aws-lambda-java-serialization}: the events it lists as
 * supported get their mix-ins ({@code Records}, {@code Sns}, ...), date modules (joda-time
 * {@code DateTime} through the function's own joda-time) and serializers (S3); every other class
 * of the events package (API Gateway v2, ALB, {@code SQSBatchResponse}, ...) goes through the
 * runtime's default Jackson configuration, as on Lambda.
 *
 * <p>The event classes are the function's own, from its loader: the serializers are made for
 * the {@code Class} the handler declares and look up joda-time in that class's loader. AWS's
 * library keeps process-wide caches keyed by class name (the first loader's joda-time wins), so
 * it serves one function per JVM, which is what an agent runs.
 */
public final class EventSerializers {

    static final String EVENTS_PACKAGE = "com.amazonaws.services.lambda.runtime.events.";

    private final Map<Class<?>, PojoSerializer<Object>> serializers = new ConcurrentHashMap<>();

    /** True for the classes Lambda's runtime binds with its own serializers. */
    public static boolean handles(Class<?> type) {
        String name = type.getName();
        return name.startsWith(EVENTS_PACKAGE) || LambdaEventSerializers.isLambdaSupportedEvent(name);
    }

    /**
     * Binds JSON to {@code type}.
     *
     * @throws RuntimeException whatever AWS's serializer throws on input it cannot bind
     */
    public Object read(Class<?> type, byte[] json) {
        return serializer(type).fromJson(new ByteArrayInputStream(json));
    }

    /** Writes {@code value} of {@code type} as JSON (nulls left out, as on Lambda). */
    public byte[] write(Class<?> type, Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        serializer(type).toJson(value, out);
        return out.toByteArray();
    }

    /**
     * Makes the serializer for {@code type} if it is an event type, and has it read {@code {}}
     * once, so that AWS's Jackson and its view of the class are ready before the first call.
     * Failures are left for that call to report.
     */
    public void prime(Class<?> type) {
        if (!handles(type)) {
            return;
        }
        try {
            read(type, new byte[]{'{', '}'});
        } catch (RuntimeException | LinkageError e) {
            // The first call binding this type fails the same way and says why.
        }
    }

    @SuppressWarnings("unchecked")
    private PojoSerializer<Object> serializer(Class<?> type) {
        return serializers.computeIfAbsent(type, t -> {
            if (LambdaEventSerializers.isLambdaSupportedEvent(t.getName())) {
                return LambdaEventSerializers.serializerFor((Class<Object>) t, t.getClassLoader());
            }
            return JacksonFactory.getInstance().getSerializer((java.lang.reflect.Type) t);
        });
    }
}
