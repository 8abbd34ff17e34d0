package io.knowngood.cli;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * What kgctl takes from outside its arguments: environment variables, the clock (bundle creation
 * times), and HTTP timeouts. Injected so tests run commands in-process without touching globals.
 */
public record Environment(Map<String, String> variables, Clock clock, Duration connectTimeout, Duration requestTimeout) {
    public static final String NODE = "KGCTL_NODE";
    public static final String TOKEN_FILE = "KGCTL_TOKEN_FILE";
    public static final String VM = "KGCTL_VM";
    public static final String CA = "KGCTL_CA";

    public Environment {
        variables = Map.copyOf(variables);
    }

    public static Environment system() {
        return new Environment(System.getenv(), Clock.systemUTC(), Duration.ofSeconds(3), Duration.ofSeconds(60));
    }

    public Optional<String> variable(String name) {
        String v = variables.get(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v);
    }
}
