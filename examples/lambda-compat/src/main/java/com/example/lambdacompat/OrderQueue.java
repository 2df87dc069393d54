package com.example.lambdacompat;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;

import java.util.ArrayList;
import java.util.List;

/**
 * An unchanged SQS batch handler with partial batch responses: each message's body is an order
 * number; a message whose body is not a number is reported in {@code batchItemFailures}, so only
 * it would be retried.
 */
public class OrderQueue implements RequestHandler<SQSEvent, SQSBatchResponse> {

    @Override
    public SQSBatchResponse handleRequest(SQSEvent event, Context context) {
        List<SQSBatchResponse.BatchItemFailure> failures = new ArrayList<>();
        for (SQSEvent.SQSMessage message : event.getRecords()) {
            if (message.getBody() != null && message.getBody().matches("[0-9]+")) {
                context.getLogger().log("order " + message.getBody() + " processed");
            } else {
                context.getLogger().log("message " + message.getMessageId() + " failed");
                failures.add(new SQSBatchResponse.BatchItemFailure(message.getMessageId()));
            }
        }
        return new SQSBatchResponse(failures);
    }
}
