package io.knowngood.cli.node;

import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.LocalFile;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code --node URL ...} (admin endpoints, tried in order; default {@code KGCTL_NODE}) and
 * {@code --token-file F} (default {@code KGCTL_TOKEN_FILE}), for commands that talk to the admin endpoint.
 */
public final class NodeOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--node", paramLabel = "URL", split = ",",
            description = "Admin endpoint of a node, e.g. http://10.0.0.5:8781; repeatable (tried in order). Default: $KGCTL_NODE.")
    List<String> nodes = new ArrayList<>();

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "File holding the admin bearer token. Default: $KGCTL_TOKEN_FILE.")
    Path tokenFile;

    @Option(names = "--ca", paramLabel = "FILE",
            description = "CA certificate (PEM, e.g. the mesh CA's ca.crt) to trust for https:// admin URLs (kgnode --admin-tls-dir). Default: $KGCTL_CA, else the JDK's trusted CAs.")
    Path ca;

    private Optional<SSLContext> tls;

    /** The TLS context for https URLs: trusting only {@code --ca} when given. */
    public Optional<SSLContext> tls() {
        if (tls == null) {
            tls = ca == null ? Optional.empty() : Optional.of(AdminCa.trusting(ca));
        }
        return tls;
    }

    /** The nodes to try, in order; a usage error if none was given. */
    public List<URI> nodes() {
        return urls(spec, nodes, "--node", "give --node URL or set " + Environment.NODE);
    }

    public String token() throws IOException {
        if (tokenFile == null) {
            throw new ParameterException(spec.commandLine(), "the admin endpoint needs a token: give --token-file FILE or set "
                    + Environment.TOKEN_FILE);
        }
        if (Files.size(tokenFile) > 4096) {
            throw new CliFailure(ExitCode.IO, tokenFile + ": too large for a token file");
        }
        String t = LocalFile.text(tokenFile).strip();
        if (t.isEmpty() || t.contains("\n")) {
            throw new CliFailure(ExitCode.IO, tokenFile + ": expected one line holding the token");
        }
        return t;
    }

    /** Whether a token file was given (not yet read). */
    public boolean tokenFileGiven() {
        return tokenFile != null;
    }

    /** The token if a token file was given (for reads that may fall back to the admin endpoint). */
    public Optional<String> optionalToken() throws IOException {
        return tokenFile == null ? Optional.empty() : Optional.of(token());
    }

    public boolean given() {
        return nodes.stream().anyMatch(s -> !s.isBlank());
    }

    public List<NodeClient> admins(Environment env) throws IOException {
        String token = token();
        return nodes().stream().map(u -> new NodeClient(u, Optional.of(token), env, tls())).toList();
    }

    static List<URI> urls(CommandSpec spec, List<String> given, String option, String hint) {
        List<URI> out = new ArrayList<>();
        for (String s : given) {
            if (s.isBlank()) {
                continue;
            }
            URI u;
            try {
                u = URI.create(s.strip());
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), option + " " + s + " is not a URL");
            }
            if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
                throw new ParameterException(spec.commandLine(), option + " " + s + " must be an http:// or https:// URL with a host");
            }
            out.add(u);
        }
        if (out.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "no node given: " + hint);
        }
        return out;
    }
}
