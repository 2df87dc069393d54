package com.example.lambdacompat;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** An unchanged Lambda stream handler: the input bytes back, as upper-case UTF-8 text. */
public class Upper implements RequestStreamHandler {

    @Override
    public void handleRequest(InputStream in, OutputStream out, Context context)
            throws IOException {
        String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        out.write(text.toUpperCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
    }
}
