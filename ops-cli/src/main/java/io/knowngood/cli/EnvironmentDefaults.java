package io.knowngood.cli;

import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/** {@code KGCTL_NODE}, {@code KGCTL_VM}, {@code KGCTL_TOKEN_FILE} and {@code KGCTL_CA} as defaults for {@code --node}, {@code --vm}, {@code --token-file} and {@code --ca}. */
final class EnvironmentDefaults implements IDefaultValueProvider {
    private final Environment env;

    EnvironmentDefaults(Environment env) {
        this.env = env;
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (arg instanceof OptionSpec o) {
            if ("--node".equals(o.longestName())) {
                return env.variable(Environment.NODE).orElse(null);
            }
            if ("--vm".equals(o.longestName())) {
                return env.variable(Environment.VM).orElse(null);
            }
            if ("--ca".equals(o.longestName())) {
                return env.variable(Environment.CA).orElse(null);
            }
            if ("--token-file".equals(o.longestName())) {
                return env.variable(Environment.TOKEN_FILE).orElse(null);
            }
        }
        return null;
    }
}
