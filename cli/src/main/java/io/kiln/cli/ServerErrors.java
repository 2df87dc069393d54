package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;

/**
 * What an answer the server refused means for the user: the plain-language message and the
 * exit code, from the HTTP status and the error's code.
 */
public final class ServerErrors {

    private ServerErrors() {
    }

    public static CliException unreachable(URI url) {
        return new CliException(Exit.UNREACHABLE, "Cannot reach the Kiln server at " + url
                + " — is it running? Start it with ./run.sh");
    }

    public static CliException badToken(Settings s) {
        if (s.token() == null) {
            return new CliException(Exit.AUTH, "The server needs a token (401) and none is set. Run `kiln login` "
                    + "or set KILN_TOKEN.");
        }
        return new CliException(Exit.AUTH, "The server refused the token (401). Run `kiln login` or set KILN_TOKEN.");
    }

    public static CliException noFunction(String name) {
        return new CliException(Exit.NOT_FOUND, "No function named '" + name + "'. `kiln ls` lists what is deployed.");
    }

    /**
     * The exit code of a refused request: 401 is {@link Exit#AUTH}, 404 {@link Exit#NOT_FOUND},
     * anything else at or above 400 {@link Exit#FAILED} (a deploy maps its own failures to
     * {@link Exit#DEPLOY_FAILED}), below 400 {@link Exit#OK}.
     */
    public static int exitCode(int status) {
        if (status < 400) {
            return Exit.OK;
        }
        return switch (status) {
            case 401 -> Exit.AUTH;
            case 404 -> Exit.NOT_FOUND;
            default -> Exit.FAILED;
        };
    }

    /**
     * The failure for a refused request.
     *
     * @param function the function the request was about, or null: a 404 then says there is no
     *                 such function
     */
    public static CliException of(int status, byte[] body, Settings s, String function) {
        JsonNode error = Json.error(Json.parse(body));
        String code = error == null ? null : error.path("code").asText();
        String message = error == null ? null : error.path("message").asText();
        int exit = exitCode(status);
        if (exit == Exit.AUTH) {
            return badToken(s);
        }
        if (exit == Exit.NOT_FOUND && function != null) {
            return noFunction(function);
        }
        return new CliException(exit == Exit.OK ? Exit.FAILED : exit, describe(status, code, message));
    }

    /** {@code The server answered 429 (too_many_requests): the queue is full.} */
    static String describe(int status, String code, String message) {
        StringBuilder sb = new StringBuilder("The server answered ").append(status);
        if (code != null && !code.isEmpty()) {
            sb.append(" (").append(code).append(")");
        }
        if (message != null && !message.isEmpty()) {
            sb.append(": ").append(message);
        }
        char last = sb.charAt(sb.length() - 1);
        return (last == '.' || last == '!' || last == '?' ? sb : sb.append('.')).toString();
    }
}
