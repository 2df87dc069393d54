package io.kiln.agent.call;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.agent.ErrorReport;
import io.kiln.agent.Json;
import io.kiln.agent.lambda.HttpEvents;
import io.kiln.agent.load.LoadedFunction;
import io.kiln.agent.load.ParamKind;
import io.kiln.agent.load.ResolvedHandler;
import io.kiln.agent.log.LogRouter;
import io.kiln.protocol.Frame;
import io.kiln.protocol.InvokeFrame;
import io.kiln.protocol.ResultFrame;

import java.util.List;

/**
 * Runs one call on the function thread: binds the input, calls the handler, maps the output.
 * Returns the RESULT or ERROR to send; lets fatal errors ({@link ErrorReport#isFatal}) through
 * for the agent to report and exit on.
 */
public final class CallRunner {

    private final LoadedFunction function;
    private final LogRouter logs;
    private final InputBinder binder;
    private final OutputMapper mapper;
    private final int maxResult;

    /** @param maxResult the RESULT body cap, so an oversized output fails cleanly */
    public CallRunner(LoadedFunction function, LogRouter logs, int maxResult) {
        this.function = function;
        this.binder = new InputBinder(Json.MAPPER, function.events());
        this.mapper = new OutputMapper(Json.MAPPER, function.events());
        this.logs = logs;
        this.maxResult = maxResult;
    }

    public Frame call(InvokeFrame invoke, ObjectNode meta, long deadlineNanos) {
        long callId = invoke.callId();
        ResolvedHandler h = function.handler();
        // Reset per call: a call that changed it must not leak that into the next one.
        Thread.currentThread().setContextClassLoader(function.loader());
        CallContext ctx = CallContext.create(callId, function.spec().function(),
                function.spec().version(), deadlineNanos, m -> logs.line("log", m),
                function.spec().env());
        List<ParamKind> params = h.params();
        Object[] args = new Object[params.size()];
        CappedOutputStream out = null;
        for (int i = 0; i < args.length; i++) {
            switch (params.get(i)) {
                case INPUT -> {
                    try {
                        args[i] = binder.bind(h.inputType(), h.lambdaSemantics(), meta,
                                invoke.body(), new HttpEvents.CallInfo(ctx.requestId(),
                                        ctx.functionName(), ctx.startTime()));
                    } catch (BadInputException e) {
                        return ErrorReport.of(callId, "bad_input", e.getMessage());
                    }
                }
                case KILN_CONTEXT -> args[i] = ctx;
                case LAMBDA_CONTEXT -> args[i] = LambdaContexts.context(h.lambda(), ctx,
                        function.spec().memoryMb(), logs);
                case OUTPUT_STREAM -> args[i] = out = new CappedOutputStream(maxResult);
            }
        }

        long started = System.nanoTime();
        Object value;
        try {
            value = h.invoker().invoke(args);
        } catch (Throwable t) {
            ErrorReport.rethrowIfFatal(t);
            return ErrorReport.of(callId, "function_error", t);
        }
        long durationUs = (System.nanoTime() - started) / 1000;

        OutputMapper.Output output;
        try {
            output = out != null ? OutputMapper.stream(out.toByteArray())
                    : mapper.map(value, h.outputType(), h.lambdaSemantics(),
                    meta.hasNonNull("http"));
        } catch (OutputMapper.BadOutputException e) {
            return ErrorReport.of(callId, "bad_output", e.getMessage());
        }
        if (output.body().length > maxResult) {
            return ErrorReport.of(callId, "result_too_large", "the result is "
                    + output.body().length + " bytes, over the cap of " + maxResult);
        }
        output.meta().put("durationUs", durationUs);
        return new ResultFrame(callId, Json.write(output.meta()), output.body());
    }
}
