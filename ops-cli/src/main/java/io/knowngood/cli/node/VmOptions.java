package io.knowngood.cli.node;

import io.knowngood.api.ErrorCode;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code --vm URL}: the VM endpoint, which serves bundle archives and long-polls (the admin endpoint
 * does not). Default {@code KGCTL_VM}; without either, kgctl tries the {@code --node} URLs.
 */
public final class VmOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--vm", paramLabel = "URL", split = ",",
            description = "VM endpoint of a node (serves archives), e.g. http://10.0.0.5:8780; repeatable. "
                    + "Default: $KGCTL_VM, else the --node URLs.")
    List<String> vms = new ArrayList<>();

    /**
     * VM endpoints to read archives from: --vm, else KGCTL_VM, else the fallback URLs (the --node
     * ones, asked with the admin token, in case that endpoint serves archives too).
     */
    public List<NodeClient> clients(Environment env, List<URI> fallback, Optional<String> fallbackToken) {
        return clients(env, fallback, fallbackToken, Optional.empty());
    }

    private List<NodeClient> clients(Environment env, List<URI> fallback, Optional<String> fallbackToken, Optional<SSLContext> fallbackTls) {
        List<String> given = vms.stream().filter(v -> !v.isBlank()).toList();
        if (given.isEmpty()) {
            return fallback.stream().map(u -> new NodeClient(u, fallbackToken, env, fallbackTls)).toList();
        }
        List<URI> urls = NodeOptions.urls(spec, List.of(String.join(",", given).split(",")), "--vm", "give --vm URL");
        return urls.stream().map(u -> new NodeClient(u, Optional.empty(), env)).toList();
    }

    /** Whether --vm or KGCTL_VM named a VM endpoint. */
    public boolean given() {
        return vms.stream().anyMatch(v -> !v.isBlank());
    }

    /** For read-only commands: --vm / KGCTL_VM, else the --node URLs (with the token if one was given). */
    public List<NodeClient> clients(Environment env, NodeOptions nodes) throws IOException {
        if (given()) {
            return clients(env, List.of(), Optional.empty());
        }
        if (!nodes.given()) {
            throw new ParameterException(spec.commandLine(),
                    "no node given: give --vm URL (VM endpoint) or set " + Environment.VM + " (or " + Environment.NODE + ")");
        }
        return clients(env, nodes.nodes(), nodes.optionalToken(), nodes.tls());
    }

    /** A 404 for the route itself (not for a bundle) means this is not a VM endpoint. */
    static void requireVmEndpoint(NodeClient node, NodeClient.Answer.Reply r) {
        if (r.status() == 404 && r.errorIs(ErrorCode.NOT_FOUND)) {
            throw new CliFailure(ExitCode.NODE_ERROR, node.base()
                    + " does not serve bundle archives (is it the admin endpoint?): give the VM endpoint with --vm URL or "
                    + Environment.VM);
        }
    }

}
