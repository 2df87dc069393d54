package io.kiln.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Which server and which token, and where each came from.
 *
 * <p>The URL: {@code --url}, else {@code KILN_URL}, else the config file's {@code url}, else
 * {@code http://127.0.0.1:8080}. The token: {@code --token}, else {@code KILN_TOKEN}, else the
 * config file's {@code token} (only when the file has no {@code url} or the same one: a token
 * is never sent to a server it was not saved for), else, for a server on this machine, the
 * token the gateway wrote into its data directory ({@code $KILN_DATA/token}, default
 * {@code ~/.local/share/kiln/token}), so a user of {@code ./run.sh} needs no login.
 *
 * @param url         the server, without a trailing slash
 * @param urlSource   where the URL came from, for {@code kiln info}
 * @param token       null when there is none
 * @param tokenSource where the token came from, null when there is none
 */
public record Settings(URI url, String urlSource, String token, String tokenSource) {

    public static final String DEFAULT_URL = "http://127.0.0.1:8080";

    public static Settings resolve(CliEnv env, String urlFlag, String tokenFlag) {
        Path configPath = ConfigFile.path(env);
        Map<String, String> file = ConfigFile.read(configPath);
        String url;
        String urlSource;
        if (urlFlag != null && !urlFlag.isBlank()) {
            url = urlFlag;
            urlSource = "--url";
        } else if (env.var("KILN_URL") != null) {
            url = env.var("KILN_URL");
            urlSource = "KILN_URL";
        } else if (file.get(ConfigFile.URL) != null && !file.get(ConfigFile.URL).isEmpty()) {
            url = file.get(ConfigFile.URL);
            urlSource = configPath.toString();
        } else {
            url = DEFAULT_URL;
            urlSource = "default";
        }
        URI uri = parseUrl(url, urlSource);

        String token = null;
        String tokenSource = null;
        String fileUrl = file.get(ConfigFile.URL);
        boolean fileTokenApplies = fileUrl == null || fileUrl.isEmpty() || sameServer(parseUrl(fileUrl, "config"), uri);
        if (tokenFlag != null && !tokenFlag.isBlank()) {
            token = tokenFlag.strip();
            tokenSource = "--token";
        } else if (env.var("KILN_TOKEN") != null) {
            token = env.var("KILN_TOKEN").strip();
            tokenSource = "KILN_TOKEN";
        } else if (fileTokenApplies && file.get(ConfigFile.TOKEN) != null && !file.get(ConfigFile.TOKEN).isEmpty()) {
            token = file.get(ConfigFile.TOKEN);
            tokenSource = configPath.toString();
        } else if (isLocal(uri)) {
            Path local = dataDir(env).resolve("token");
            String t = readToken(local);
            if (t != null) {
                token = t;
                tokenSource = local.toString();
            }
        }
        return new Settings(uri, urlSource, token, tokenSource);
    }

    /** The gateway's data directory on this machine: {@code KILN_DATA}, else {@code ~/.local/share/kiln}. */
    public static Path dataDir(CliEnv env) {
        String data = env.var("KILN_DATA");
        if (data != null) {
            return env.path(data);
        }
        return env.home().resolve(".local/share/kiln"); // the gateway's default (io.kiln.gateway.Main)
    }

    /** An http(s) URL with a host, without a trailing slash; a usage error otherwise. */
    static URI parseUrl(String url, String source) {
        String u = url.strip();
        while (u.endsWith("/")) {
            u = u.substring(0, u.length() - 1);
        }
        try {
            URI uri = new URI(u);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
                throw new URISyntaxException(url, "not an http:// or https:// URL with a host");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new CliException(Exit.USAGE, "The server URL '" + url + "' (from " + source
                    + ") is not an http:// or https:// URL like " + DEFAULT_URL + ".");
        }
    }

    static boolean sameServer(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b) && a.getRawPath().equals(b.getRawPath());
    }

    private static int port(URI u) {
        return u.getPort() != -1 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    /** Whether the server is on this machine: a loopback name or address. */
    static boolean isLocal(URI url) {
        String host = url.getHost().toLowerCase(Locale.ROOT);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.equals("localhost") || host.endsWith(".localhost")) {
            return true;
        }
        if (host.matches("[0-9.]+") || host.contains(":")) {
            try {
                return InetAddress.getByName(host).isLoopbackAddress(); // a literal: no lookup
            } catch (IOException e) {
                return false;
            }
        }
        return false;
    }

    private static String readToken(Path file) {
        try {
            String t = Files.readString(file, StandardCharsets.UTF_8).strip();
            return t.isEmpty() ? null : t;
        } catch (IOException e) {
            return null;
        }
    }

    /** The URL of {@code path} (which starts with a slash) on this server. */
    public URI resolve(String path) {
        return URI.create(url + path);
    }
}
