package com.example.hello;

import io.kiln.function.Context;
import io.kiln.function.Handler;

/** A name in, a greeting out. A {@code String} input and output are the raw body, as text. */
public final class Hello implements Handler<String, String> {

    @Override
    public String handle(String name, Context ctx) {
        String who = name == null || name.isBlank() ? "world" : name.strip();
        return "Hello, " + who + "!";
    }
}
