package io.knowngood.testkit.process;

import io.knowngood.api.ApiJson;
import io.knowngood.api.ClusterView;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One real kgnode process, started from the daemon's shaded jar (or through bin/kgnode), on one
 * loopback address with its own data dir and log. The jar comes from the system property
 * {@code kgnode.jar}, which each consuming module's surefire configuration sets from the Maven artifact
 * {@code io.knowngood:node:jar:kgnode}. Build one with {@link #builder}; start, stop, kill -9 and signal
 * it; its VM and admin endpoints are reachable through the small HTTP helpers here.
 */
public final class NodeProcess implements AutoCloseable {
    /** JVM flags of every node process unless -Dkgnode.jvm="..." replaces them (benchmarks try others). */
    public static final String DEFAULT_JVM = "-Xmx96m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";
    /** How long a start may take on a loaded machine before a test gives up on it. */
    public static final Duration START_DEADLINE = Duration.ofSeconds(60);

    private final String id;
    private final String ip;
    private final int clusterPort;
    private final int vmPort;
    private final int adminPort;
    private final Path dataDir;
    private final Path log;
    private final String adminToken;
    private final Path adminTokenFile;
    private final List<String> command;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;
    private int starts;
    private List<String> peers = List.of();
    private List<String> extraArgs = List.of();
    private List<String> extraJvm = List.of();
    private List<String> classSharing = List.of();
    /** The jar whose shared {@link ClassArchive} a start uses when no classSharing is set; null: none (own flags, launcher). */
    private final Path archivedJar;
    /** Wraps the command (e.g. unshare for a private resolv.conf); empty for none. */
    private List<String> prefix = List.of();
    private Map<String, String> env = Map.of();

    private NodeProcess(Builder b) {
        this.id = b.id;
        this.ip = b.ip;
        this.clusterPort = b.clusterPort;
        this.vmPort = b.vmPort;
        this.adminPort = b.adminPort;
        this.dataDir = b.dataDir;
        this.log = b.log;
        this.adminToken = b.adminToken;
        this.adminTokenFile = b.tokenFile;
        this.command = List.copyOf(b.args);
        this.archivedJar = b.archivedJar;
    }

    /** A node called {@code id} whose data dir and log live under {@code dir} unless set otherwise. */
    public static Builder builder(String id, Path dir) {
        return new Builder(id, dir);
    }

    /**
     * The daemon's jar from {@code -Dkgnode.jar}. Throws when the property is not set: the module's
     * surefire configuration sets it (see {@link #jarMissing()} for a check that does not throw).
     */
    public static Path jar() {
        String p = System.getProperty("kgnode.jar");
        if (p == null || p.isBlank()) {
            throw new IllegalStateException("-Dkgnode.jar is not set (the module's surefire configuration sets it from "
                    + "io.knowngood:node:jar:kgnode; run through Maven, or pass -Dkgnode.jar=PATH)");
        }
        return Path.of(p).toAbsolutePath();
    }

    /** Why the jar cannot be run (property unset, file absent), or null when it can. */
    public static String jarMissing() {
        String p = System.getProperty("kgnode.jar");
        if (p == null || p.isBlank()) {
            return "-Dkgnode.jar is not set";
        }
        return Files.isRegularFile(Path.of(p)) ? null : "kgnode jar not built at " + Path.of(p).toAbsolutePath()
                + " (mvn verify from the root builds it)";
    }

    /** Test ports are taken from here up to the kernel's ephemeral range (the chaos tests' and benches' fixed ports are below). */
    private static final int LOWEST_TEST_PORT = 20000;

    /**
     * A free TCP port on the loopback address (free now: a race with other processes stays possible),
     * below the kernel's range of ephemeral ports. A port in that range is also handed out as the source
     * of outgoing connections: a node dialing a peer's port on loopback while nothing listens there (a
     * dead peer, a node restarting) can be given that very port as its source and connect to itself,
     * holding the port. The replication module's tests met it (a member could not bind its port again).
     */
    public static int freePort() throws IOException {
        return freePorts(1, false)[0];
    }

    /**
     * A free loopback port that is none of {@code taken}: two picks in a row can return the same port
     * once the first socket is closed (seen in CI).
     */
    public static int freePortOtherThan(int... taken) throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            int p = freePort();
            if (Arrays.stream(taken).noneMatch(t -> t == p)) {
                return p;
            }
        }
        throw new IllegalStateException("no free loopback port other than " + Arrays.toString(taken));
    }

    /**
     * {@code count} free loopback ports, each with its successor free too (JGroups' FD_SOCK2 listens on
     * port + 1), all 2 x {@code count} different, below the ephemeral range (see {@link #freePort}).
     */
    public static int[] freePortPairs(int count) throws IOException {
        return freePorts(count, true);
    }

    /** How many ports handed out in this JVM {@link #freePorts} remembers, so as not to give them again. */
    private static final int REMEMBERED_PORTS = 4096;
    private static final LinkedHashSet<Integer> HANDED_OUT = new LinkedHashSet<>();

    /**
     * The probe sockets are closed again, so the kernel would let a later pick return the same port while
     * its first taker has not bound it yet, or still holds connections on it: no port handed out in this
     * JVM is handed out again (the last {@value #REMEMBERED_PORTS}), and a port still holding connections
     * (TIME_WAIT or closing) is passed over.
     */
    private static synchronized int[] freePorts(int count, boolean withSuccessor) {
        int ceiling = Math.min(ephemeralLow(), 65535) - 2;
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        int[] ports = new int[count];
        int found = 0;
        for (int attempt = 0; attempt < 200 * count && found < count; attempt++) {
            int p = random.nextInt(LOWEST_TEST_PORT, ceiling);
            boolean free = !HANDED_OUT.contains(p) && unused(p)
                    && (!withSuccessor || !HANDED_OUT.contains(p + 1) && unused(p + 1));
            if (free) {
                remember(p);
                if (withSuccessor) {
                    remember(p + 1);
                }
                ports[found++] = p;
            }
        }
        if (found < count) {
            throw new IllegalStateException("no " + count + " free loopback port" + (withSuccessor ? " pairs" : "s")
                    + " between " + LOWEST_TEST_PORT + " and " + ceiling);
        }
        return ports;
    }

    /**
     * Whether nothing on this host holds {@code port} on loopback, not even a connection in TIME_WAIT: the
     * probe binds without SO_REUSEADDR, which Java's ServerSocket would otherwise set.
     */
    static boolean unused(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException taken) {
            return false;
        }
    }

    private static void remember(int port) {
        HANDED_OUT.add(port);
        if (HANDED_OUT.size() > REMEMBERED_PORTS) {
            HANDED_OUT.remove(HANDED_OUT.iterator().next());
        }
    }

    /** Where the kernel's ephemeral ports begin (Linux: ip_local_port_range; 32768 where it cannot be read). */
    static int ephemeralLow() {
        try {
            // line by line: /proc reports a size of 0 (Files.readString returned "3" for "32768 60999")
            String range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim();
            return Math.max(Integer.parseInt(range.split("\\s+")[0]), LOWEST_TEST_PORT + 1000);
        } catch (IOException | RuntimeException e) {
            return 32768;
        }
    }

    public String id() {
        return id;
    }

    public String ip() {
        return ip;
    }

    public int clusterPort() {
        return clusterPort;
    }

    public int vmPort() {
        return vmPort;
    }

    public int adminPort() {
        return adminPort;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path log() {
        return log;
    }

    public String vmUrl() {
        return "http://" + ip + ":" + vmPort;
    }

    public String adminUrl() {
        return "http://" + ip + ":" + adminPort;
    }

    public String clusterAddress() {
        return ip + ":" + clusterPort;
    }

    public String adminToken() {
        return adminToken;
    }

    /** The file given with --admin-token-file (mode 0600, as the README tells users to make it). */
    public Path adminTokenFile() {
        return adminTokenFile;
    }

    /** Static peers ({@code ip:port}) passed with --peers at the next start; empty for none. */
    public synchronized void peers(List<String> peers) {
        this.peers = List.copyOf(peers);
    }

    /** kgnode arguments added at the end of the command line from the next start on (e.g. a site's flags). */
    public synchronized void extraArgs(List<String> args) {
        this.extraArgs = List.copyOf(args);
    }

    /** JVM options added before -jar at the next start (e.g. a CDS archive); ignored when started through bin/kgnode. */
    public synchronized void extraJvmArgs(List<String> jvmArgs) {
        this.extraJvm = List.copyOf(jvmArgs);
    }

    /**
     * Class data sharing options added before any {@link #extraJvmArgs} from the next start on (the
     * AppCDS archive bin/kgnode uses on a host after its first stop); ignored when started through
     * bin/kgnode, which has its own.
     */
    public synchronized void classSharing(List<String> jvmArgs) {
        this.classSharing = List.copyOf(jvmArgs);
    }

    /** A command prefix and environment for the next start (e.g. unshare, LD_PRELOAD); empty for none. */
    public synchronized void wrap(List<String> prefix, Map<String, String> env) {
        this.prefix = List.copyOf(prefix);
        this.env = Map.copyOf(env);
    }

    /**
     * Starts the process unless it runs already; its output is appended to {@link #log()} after a
     * line naming the command. Returns {@code System.nanoTime()} just before the start.
     */
    public synchronized long start() throws IOException {
        if (isAlive()) {
            return System.nanoTime();
        }
        List<String> cmd = new ArrayList<>(prefix);
        for (String a : command) {
            if (a.equals(JVM_EXTRA)) {
                cmd.addAll(!classSharing.isEmpty() || archivedJar == null ? classSharing
                        : ClassArchive.fresh(archivedJar).map(ClassArchive::use).orElse(List.of()));
                cmd.addAll(extraJvm);
            } else if (a.equals(PEERS)) {
                if (!peers.isEmpty()) {
                    cmd.add("--peers");
                    cmd.add(String.join(",", peers));
                }
            } else {
                cmd.add(a);
            }
        }
        cmd.addAll(extraArgs);
        Files.createDirectories(dataDir);
        Files.createDirectories(log.toAbsolutePath().getParent());
        starts++;
        Files.writeString(log, "---- start #" + starts + ": " + String.join(" ", cmd) + "\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        long t0 = System.nanoTime();
        process = pb.start();
        return t0;
    }

    public synchronized long pid() {
        if (process == null) {
            throw new IllegalStateException(id + " was never started");
        }
        return process.pid();
    }

    /** utime + stime of the running process in clock ticks (100 a second on Linux), from /proc. */
    public long cpuTicks() throws IOException {
        return cpuTicksOf(pid());
    }

    /** utime + stime of any process in clock ticks, from /proc (benchmarks read reference servers' with it too). */
    public static long cpuTicksOf(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    public synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** kill -9: no shutdown hook, no flush. */
    public synchronized void kill9() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** The exit code of the last run once it has ended (143 after SIGTERM); -1 while it runs or before a start. */
    public synchronized int exitCode() {
        return process == null || process.isAlive() ? -1 : process.exitValue();
    }

    /** The jar whose shared class archive this node uses by default ({@link ClassArchive}); empty when it starts otherwise. */
    public Optional<Path> archivedJar() {
        return Optional.ofNullable(archivedJar);
    }

    /** SIGTERM and wait: the node's shutdown hook runs (and the JVM writes a CDS archive if asked to). */
    public synchronized void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Sends a signal by name (STOP, CONT, ...) to the running process; nothing when it is not running. */
    public synchronized void signal(String sig) throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).inheritIO().start().waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** GET on the VM endpoint. */
    public HttpResponse<byte[]> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(vmUrl() + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    /** GET on the admin endpoint with the admin token. */
    public HttpResponse<String> adminGet(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(adminUrl() + path))
                .header("Authorization", "Bearer " + adminToken).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The node's {@code GET /v1/cluster} (admin), empty when it does not answer 200 with a view within 3 s. */
    public Optional<ClusterView> clusterView() {
        try {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(adminUrl() + "/v1/cluster"))
                    .header("Authorization", "Bearer " + adminToken).timeout(Duration.ofSeconds(3)).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() == 200 && ApiJson.decode(r.body(), ClusterView.class) instanceof ApiJson.Decoded.Body<ClusterView> b) {
                return Optional.of(b.value());
            }
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Optional.empty();
    }

    /** PUT of a bundle archive on the admin endpoint; returns the status. */
    public int publish(String name, byte[] archive, Duration timeout) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(adminUrl() + "/v1/bundles/" + name))
                        .header("Authorization", "Bearer " + adminToken).timeout(timeout)
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(archive)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** True once GET {@code path} on the VM endpoint answers 200 (connection refused counts as not yet). */
    public boolean answers200(String path) {
        try {
            return get(path).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * True once both endpoints answer: the VM endpoint's health at all (200, or 503 while it withholds a
     * damaged copy), and the admin endpoint. The node opens its VM endpoint a moment before the admin
     * one, so a test that publishes as soon as the VM endpoint answers could meet a refused connection.
     */
    public boolean up() {
        return bothEndpointsAnswer(s -> s == 200 || s == 503);
    }

    /** As {@link #up()}, but healthy: the VM endpoint's health is 200 (serving), and the admin endpoint answers. */
    public boolean serving() {
        return bothEndpointsAnswer(s -> s == 200);
    }

    private boolean bothEndpointsAnswer(java.util.function.IntPredicate health) {
        try {
            return health.test(get("/v1/health").statusCode()) && adminGet("/v1/cluster").statusCode() > 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    @Override
    public String toString() {
        return id + "@" + ip;
    }

    private static final String JVM_EXTRA = "\0jvm-extra";
    private static final String PEERS = "\0peers";

    /**
     * How a node is started: address and ports (free loopback ports by default), data dir and log,
     * admin token, and the arguments after {@code kgnode run}. The command is {@code java
     * [-Dkgnode.jvm flags, default DEFAULT_JVM] -jar $kgnode.jar run ...}, or with -Dkgnode.launcher=PATH
     * the shipped launcher ({@code KGNODE_JAR=... PATH run ...}) with the flags users get.
     */
    public static final class Builder {
        private final String id;
        private final Path dir;
        private String ip = "127.0.0.1";
        private int clusterPort = -1;
        private int vmPort = -1;
        private int adminPort = -1;
        private Path dataDir;
        private Path log;
        private String adminToken = "testkit-admin-token-0123456789abcdef";
        private Path tokenFile;
        private List<String> jvmFlags;
        private Path jar;
        private Path launcher;
        private Path archivedJar;
        private final List<String> runArgs = new ArrayList<>();
        private final List<String> args = new ArrayList<>();

        private Builder(String id, Path dir) {
            this.id = id;
            this.dir = dir.toAbsolutePath();
        }

        public Builder ip(String ip) {
            this.ip = ip;
            return this;
        }

        /** Binds the mesh (--cluster-bind ip:port); without it the node gets no --cluster-bind. */
        public Builder clusterPort(int port) {
            this.clusterPort = port;
            return this;
        }

        public Builder vmPort(int port) {
            this.vmPort = port;
            return this;
        }

        public Builder adminPort(int port) {
            this.adminPort = port;
            return this;
        }

        public Builder dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        public Builder log(Path log) {
            this.log = log;
            return this;
        }

        /** Written to {@code dir/admin.token} at build time and passed with --admin-token-file. */
        public Builder adminToken(String token) {
            this.adminToken = token;
            return this;
        }

        /** JVM flags instead of -Dkgnode.jvm / {@link #DEFAULT_JVM}. */
        public Builder jvmFlags(List<String> flags) {
            this.jvmFlags = List.copyOf(flags);
            return this;
        }

        /** Starts the node through this launcher script (bin/kgnode) with its own JVM flags; by default -Dkgnode.launcher, if set. */
        public Builder launcher(Path script) {
            this.launcher = script;
            return this;
        }

        /** The jar instead of {@link NodeProcess#jar()}. */
        public Builder jar(Path jar) {
            this.jar = jar;
            return this;
        }

        /** Arguments after {@code run} (e.g. --trust-key, --standalone, --floor-file). */
        public Builder args(String... more) {
            runArgs.addAll(List.of(more));
            return this;
        }

        public Builder args(List<String> more) {
            runArgs.addAll(more);
            return this;
        }

        public NodeProcess build() throws IOException {
            if (vmPort < 0) {
                vmPort = freePort();
            }
            if (adminPort < 0) {
                adminPort = freePortOtherThan(vmPort);
            }
            if (dataDir == null) {
                dataDir = dir.resolve(id + "-data");
            }
            if (log == null) {
                log = dir.resolve(id + ".log");
            }
            Files.createDirectories(dir);
            Path token = dir.resolve(id + "-admin.token");
            Files.writeString(token, adminToken + "\n");
            Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            tokenFile = token;
            Path j = jar != null ? jar : NodeProcess.jar();
            String launcher = this.launcher != null ? this.launcher.toString() : System.getProperty("kgnode.launcher", "");
            if (!launcher.isBlank()) {
                // the shipped launcher with its own JVM flags and CDS archive (benchmarks of what users run)
                args.addAll(List.of("env", "KGNODE_JAR=" + j, Path.of(launcher).toAbsolutePath().toString()));
            } else {
                args.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                // the default flags: a shared class archive fits them (a test's own flags may not)
                archivedJar = jvmFlags == null && System.getProperty("kgnode.jvm") == null ? j : null;
                args.addAll(jvmFlags != null ? jvmFlags
                        : List.of(System.getProperty("kgnode.jvm", DEFAULT_JVM).trim().split("\\s+")));
                args.add(JVM_EXTRA);
                args.addAll(List.of("-jar", j.toString()));
            }
            args.addAll(List.of("run", "--node-id", id, "--data-dir", dataDir.toString(),
                    "--vm-bind", ip + ":" + vmPort, "--admin-bind", ip + ":" + adminPort,
                    "--admin-token-file", token.toString()));
            if (clusterPort >= 0) {
                args.addAll(List.of("--cluster-bind", ip + ":" + clusterPort));
            }
            args.add(PEERS);
            args.addAll(runArgs);
            return new NodeProcess(this);
        }
    }
}
