package io.kiln.cli;

/**
 * The exit codes of every command (docs/CLI.md). Scripts branch on them, so they never change
 * meaning: a new kind of failure gets a new number.
 */
public final class Exit {

    /** Done. */
    public static final int OK = 0;
    /** The function answered with an error, a call failed, or something else went wrong. */
    public static final int FAILED = 1;
    /** The command line is wrong (picocli's usage error). */
    public static final int USAGE = 2;
    /** The server cannot be reached. */
    public static final int UNREACHABLE = 3;
    /** The server refused the token, or one is needed and none is set. */
    public static final int AUTH = 4;
    /** No such function (or call). */
    public static final int NOT_FOUND = 5;
    /** A deploy failed: the build, the upload, or the function's init. */
    public static final int DEPLOY_FAILED = 6;

    /** For picocli's "Exit codes:" section of every help page. */
    static final String[] HELP = {
        "0:ok",
        "1:the function answered with an error or the call failed",
        "2:usage error",
        "3:cannot reach the Kiln server",
        "4:the server refused the token",
        "5:no such function",
        "6:the deploy failed (build, upload or the function's init)",
    };

    private Exit() {
    }
}
