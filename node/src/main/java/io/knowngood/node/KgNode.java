package io.knowngood.node;

import io.knowngood.node.cluster.ClusterFactory;
import io.knowngood.node.cluster.MeshLink;
import io.knowngood.node.config.NodeConfig;
import io.knowngood.node.config.Settings;
import io.knowngood.node.logs.NodeLogging;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code kgnode}: the per-host daemon. {@code kgnode run [--config FILE] [flags]}; flags override
 * the YAML file; with nothing given it runs a one-node mesh on loopback ("try it" mode).
 */
@Command(name = "kgnode", mixinStandardHelpOptions = true, versionProvider = KgNode.Version.class,
        description = "knowngood per-host daemon: serves verified configuration bundles to the host's VMs.",
        subcommands = {KgNode.Run.class})
public final class KgNode implements Callable<Integer> {

    /** Where the mesh is plugged in: replication's Mesh (its TLS directory checked first), unless the node is configured standalone. */
    static ClusterFactory clusterFactory(NodeConfig config, Clock clock) {
        return config.standalone() ? ClusterFactory.standalone() : MeshLink.factory(clock);
    }

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 2;
    }

    public static void main(String[] args) {
        // XNIO and JGroups log through jboss-logging: send that to SLF4J too.
        System.setProperty("org.jboss.logging.provider", "slf4j");
        System.exit(new CommandLine(new KgNode()).execute(args));
    }

    /** {@code kgnode run}. Exit codes: 143/130 stopped by SIGTERM/SIGINT (clean shutdown in the hook), 1 failed to start, 2 bad config or flags. */
    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run the node until stopped (SIGTERM/SIGINT). Flags override the config file.",
            exitCodeOnInvalidInput = 2)
    static final class Run implements Callable<Integer> {

        @Option(names = "--config", paramLabel = "FILE", description = "YAML config file (keys are the flag names without --).")
        Path configFile;

        @Mixin
        Settings flags = new Settings();

        @Override
        public Integer call() throws Exception {
            NodeConfig config;
            try {
                config = NodeConfig.load(Optional.ofNullable(configFile), flags);
            } catch (IllegalArgumentException | IOException e) {
                System.err.println("kgnode: bad configuration: " + reason(e));
                return 2;
            }
            NodeLogging.use(config.logFormat()); // before Node.start writes the first line
            Node node;
            try {
                node = Node.start(config, Clock.systemUTC(), clusterFactory(config, Clock.systemUTC()));
            } catch (Exception e) {
                System.err.println("kgnode: cannot start: " + reason(e));
                return 1;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                node.close();
                stopped.countDown();
            }, "kgnode-shutdown"));
            stopped.await();
            return 0;
        }
    }

    /**
     * Why the node did not start (a config file, a key, the data dir), in one line. The JDK's file exceptions
     * carry only the path: say what is wrong with it.
     */
    static String reason(Exception e) {
        if (e instanceof NoSuchFileException f) {
            return f.getFile() + ": no such file or directory";
        }
        if (e instanceof AccessDeniedException f) {
            return f.getFile() + ": permission denied";
        }
        if (e instanceof NotDirectoryException f) {
            return f.getFile() + ": not a directory";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** {@code kgnode --version}: "knowngood VERSION", the Maven project version filtered into version.properties at build time. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = KgNode.class.getResourceAsStream("version.properties")) {
                if (in == null) {
                    throw new FileNotFoundException("io/knowngood/node/version.properties is not on the classpath (a broken build)");
                }
                p.load(in);
            }
            return new String[] {"knowngood " + p.getProperty("version")};
        }
    }
}
