package io.knowngood.cli;

import io.knowngood.cli.bundle.BundleCommand;
import io.knowngood.cli.keys.KeysCommand;
import io.knowngood.cli.mesh.MeshCommand;
import io.knowngood.cli.node.AuditCommand;
import io.knowngood.cli.node.BundlesCommand;
import io.knowngood.cli.node.ExplainCommand;
import io.knowngood.cli.node.PublishCommand;
import io.knowngood.cli.node.RetireCommand;
import io.knowngood.cli.node.RollbackCommand;
import io.knowngood.cli.node.RolloutCommand;
import io.knowngood.cli.node.SeedCommand;
import io.knowngood.cli.node.StatusCommand;
import io.knowngood.cli.node.WatchCommand;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code kgctl} entry point: builds the picocli command tree, maps every failure to one stderr
 * line and an {@link ExitCode}. Commands print through {@code spec.commandLine().getOut()} so tests
 * capture their output by running {@link #commandLine(Environment)} in-process.
 */
@Command(name = "kgctl", mixinStandardHelpOptions = true, versionProvider = Kgctl.Version.class,
        description = "Operate a knowngood mesh: keys, signed bundles, publishing, rollouts, cluster status.",
        subcommands = {KeysCommand.class, BundleCommand.class, MeshCommand.class, PublishCommand.class, SeedCommand.class, StatusCommand.class,
                ExplainCommand.class, AuditCommand.class,
                BundlesCommand.class, WatchCommand.class, RetireCommand.class, RolloutCommand.class, RollbackCommand.class,
                CompletionCommand.class, CommandLine.HelpCommand.class},
        footerHeading = "%nEnvironment:%n",
        footer = {"  KGCTL_NODE        default for --node: admin endpoint URL(s), comma-separated",
                "  KGCTL_TOKEN_FILE  default for --token-file",
                "  KGCTL_VM          default for --vm: VM endpoint URL(s), comma-separated",
                "", "See docs/kgctl.md for the full reference."})
public final class Kgctl implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "a command is required");
    }

    public static void main(String[] args) {
        System.exit(commandLine(Environment.system()).execute(args));
    }

    /** The configured command tree; set its out/err writers to capture output. */
    public static CommandLine commandLine(Environment env) {
        CommandLine cl = new CommandLine(new Kgctl(), new Factory(env));
        cl.setParameterExceptionHandler(Kgctl::usageError);
        cl.setExecutionExceptionHandler((ex, line, parsed) -> failure(ex, line));
        cl.setDefaultValueProvider(new EnvironmentDefaults(env));
        addExitCodes(cl);
        return cl;
    }

    private static void addExitCodes(CommandLine cl) {
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(ExitCode.helpList());
        for (CommandLine sub : cl.getSubcommands().values()) {
            addExitCodes(sub);
        }
    }

    private static int usageError(ParameterException ex, String[] args) {
        CommandLine line = ex.getCommandLine();
        PrintWriter err = line.getErr();
        String cmd = line.getCommandSpec().qualifiedName();
        err.println(cmd + ": " + plainNumbers(oneLine(ex.getMessage())) + " (see '" + cmd + " --help')");
        err.flush();
        return ExitCode.USAGE.code();
    }

    /**
     * picocli names Java's types when a number does not convert ("'9999999999999999999999' is not a
     * long"); an operator reads what a value may be instead.
     */
    static String plainNumbers(String message) {
        return message.replaceAll("' is not a long$", "' is not a whole number of at most 9223372036854775807 (2^63-1)")
                .replaceAll("' is not an int$", "' is not a whole number of at most 2147483647");
    }

    private static int failure(Exception ex, CommandLine line) {
        PrintWriter err = line.getErr();
        String cmd = line.getCommandSpec().qualifiedName();
        ExitCode code;
        String message;
        if (ex instanceof CliFailure f) {
            code = f.exitCode();
            message = f.getMessage();
        } else if (ex instanceof IOException io) {
            code = ExitCode.IO;
            message = describe(io);
        } else {
            code = ExitCode.INTERNAL;
            message = "internal error: " + ex; // a bug: name the exception, still one line
        }
        err.println(cmd + ": " + oneLine(message));
        err.flush();
        return code.code();
    }

    /** JDK file exceptions carry only the path as message; say what happened. */
    static String describe(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory: " + e.getMessage();
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied: " + e.getMessage();
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists: " + e.getMessage();
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory: " + e.getMessage();
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "directory not empty: " + e.getMessage();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        return s.replaceAll("\\s*[\\r\\n]+\\s*", "; ").strip();
    }

    /** Creates commands; those with an {@code (Environment)} constructor get the injected one. */
    private record Factory(Environment env) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> cls) throws Exception {
            try {
                Constructor<K> c = cls.getDeclaredConstructor(Environment.class);
                c.setAccessible(true);
                return c.newInstance(env);
            } catch (NoSuchMethodException e) {
                return CommandLine.defaultFactory().create(cls);
            }
        }
    }

    /** {@code kgctl --version}: "knowngood VERSION", the Maven project version filtered into version.properties at build time. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Kgctl.class.getResourceAsStream("version.properties")) {
                if (in == null) {
                    throw new FileNotFoundException("io/knowngood/cli/version.properties is not on the classpath (a broken build)");
                }
                p.load(in);
            }
            return new String[] {"knowngood " + p.getProperty("version")};
        }
    }
}
