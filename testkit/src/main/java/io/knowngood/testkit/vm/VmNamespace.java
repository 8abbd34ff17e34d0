package io.knowngood.testkit.vm;

import io.knowngood.testkit.Ci;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;

/**
 * A VM on a host-only network, as far as the network goes: a network namespace whose only link is one
 * end of a veth pair (named {@code eth0}, as in a guest), the other end left on the host. Each end has
 * an IPv4 address of a /30 in 10.213.0.0/16 and a fixed IPv6 link-local address ({@code fe80::1} on the
 * host, {@code fe80::2} in the VM, added without DAD so they are usable at once); the VM has no route
 * beyond its link, no DNS, and loopback. Commands run inside with {@code ip netns exec}.
 *
 * <p>Names carry this JVM's pid ({@code kgv-PID-N} for the namespace, {@code kgvPID36-N} for the host
 * end), so {@link #removeLeftovers()} (called before the first namespace of a JVM) deletes only what a
 * dead JVM left behind. Needs root, iproute2 and IPv6; see {@link #unavailableBecause()}.
 */
public final class VmNamespace implements AutoCloseable {

    /** The interface name inside the namespace, as a guest would call its NIC. */
    public static final String VM_INTERFACE = "eth0";
    public static final String HOST_LINK_LOCAL = "fe80::1";
    public static final String VM_LINK_LOCAL = "fe80::2";

    private static final Pattern NS_NAME = Pattern.compile("^kgv-(\\d+)-(\\d+)$");
    private static final Pattern HOST_IF = Pattern.compile("^kgv([0-9a-z]+)-(\\d+)v?$");
    private static final Duration READY_DEADLINE = Duration.ofSeconds(15);
    private static final Duration COMMAND_DEADLINE = Duration.ofSeconds(15);
    private static final AtomicInteger NEXT = new AtomicInteger();
    private static final long PID = ProcessHandle.current().pid();
    private static volatile boolean leftoversRemoved;

    private final String name;
    private final String hostInterface;
    private final String hostIpv4;
    private final String vmIpv4;

    /** What a command run inside printed, and how it ended (exit -1: killed at its deadline). */
    public record Result(int exit, byte[] stdout, String stderr) {
        public String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }
    }

    private VmNamespace(int n) {
        this.name = "kgv-" + PID + "-" + n;
        this.hostInterface = "kgv" + Long.toString(PID, 36) + "-" + n;
        // a /30 per pair; pid and n spread pairs of concurrent JVMs over 16,384 subnets
        int subnet = (int) ((PID * 31 + n) % 16_384);
        String base = "10.213." + (subnet >> 6) + ".";
        this.hostIpv4 = base + (((subnet & 63) << 2) + 1);
        this.vmIpv4 = base + (((subnet & 63) << 2) + 2);
    }

    /** Null when namespaces can be made here, else why not (run as root with iproute2, curl and IPv6). */
    public static String unavailableBecause() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "network namespaces need root; run as root, as CI does";
        }
        String tools = Ci.missingTools("ip", "curl");
        if (tools != null) {
            return tools;
        }
        try {
            if (!Files.readString(Path.of("/proc/sys/net/ipv6/conf/all/disable_ipv6")).trim().equals("0")) {
                return "IPv6 is disabled (sysctl net.ipv6.conf.all.disable_ipv6=1)";
            }
            if (run(List.of("ip", "netns", "list")).exit() != 0) {
                return "'ip netns list' fails here (no network namespaces in this container?)";
            }
        } catch (IOException e) {
            return "cannot check IPv6 or ip netns: " + e.getMessage();
        }
        return null;
    }

    /** Creates the next namespace of this JVM and waits (with a deadline) until both ends are up and addressed. */
    public static VmNamespace create() throws IOException {
        if (!leftoversRemoved) {
            removeLeftovers();
            leftoversRemoved = true;
        }
        VmNamespace ns = new VmNamespace(NEXT.incrementAndGet());
        try {
            ns.setUp();
        } catch (IOException | RuntimeException e) {
            ns.close();
            throw e;
        }
        return ns;
    }

    /**
     * Deletes the namespaces and host links of JVMs that no longer run (a crashed or killed test run);
     * returns how many things it removed. Those of running JVMs, this one included, are left alone.
     */
    public static int removeLeftovers() throws IOException {
        int removed = 0;
        for (String line : run(List.of("ip", "netns", "list")).out().split("\n")) {
            String ns = line.trim().split("\\s+")[0];
            Matcher m = NS_NAME.matcher(ns);
            if (m.matches() && !alive(Long.parseLong(m.group(1)))) {
                removed += run(List.of("ip", "netns", "del", ns)).exit() == 0 ? 1 : 0;
            }
        }
        // a deleted namespace takes its veth end and so the pair with it; a host end left alone goes here
        for (String line : run(List.of("ip", "-o", "link", "show")).out().split("\n")) {
            String[] f = line.split(":\\s+");
            if (f.length < 2) {
                continue;
            }
            String ifName = f[1].split("@")[0].trim();
            Matcher m = HOST_IF.matcher(ifName);
            if (m.matches() && !alive(Long.parseLong(m.group(1), 36))) {
                removed += run(List.of("ip", "link", "del", ifName)).exit() == 0 ? 1 : 0;
            }
        }
        return removed;
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private void setUp() throws IOException {
        String vmSide = hostInterface + "v"; // named only until it is moved and renamed eth0
        must("ip", "netns", "add", name);
        must("ip", "link", "add", hostInterface, "type", "veth", "peer", "name", vmSide);
        must("ip", "link", "set", vmSide, "netns", name);
        mustIn("ip", "link", "set", vmSide, "name", VM_INTERFACE);
        // no addresses made up from the MAC: each end has exactly the link-local address given here
        must("ip", "link", "set", hostInterface, "addrgenmode", "none");
        mustIn("ip", "link", "set", VM_INTERFACE, "addrgenmode", "none");
        must("ip", "addr", "add", HOST_LINK_LOCAL + "/64", "dev", hostInterface, "nodad");
        must("ip", "addr", "add", hostIpv4 + "/30", "dev", hostInterface);
        mustIn("ip", "addr", "add", VM_LINK_LOCAL + "/64", "dev", VM_INTERFACE, "nodad");
        mustIn("ip", "addr", "add", vmIpv4 + "/30", "dev", VM_INTERFACE);
        must("ip", "link", "set", hostInterface, "up");
        mustIn("ip", "link", "set", VM_INTERFACE, "up");
        mustIn("ip", "link", "set", "lo", "up");
        Awaitility.await(name + " up, addresses usable").atMost(READY_DEADLINE).pollInterval(Duration.ofMillis(50))
                .until(() -> ready(run(List.of("ip", "-o", "addr", "show", "dev", hostInterface)).out(),
                        run(List.of("ip", "-o", "link", "show", "dev", hostInterface)).out())
                        && ready(exec("ip", "-o", "addr", "show", "dev", VM_INTERFACE).out(),
                        exec("ip", "-o", "link", "show", "dev", VM_INTERFACE).out()));
    }

    /** Both addresses present, none tentative (DAD unfinished) and the link has its carrier. */
    static boolean ready(String addrs, String link) {
        return addrs.contains("inet ") && addrs.contains("inet6 fe80::") && !addrs.contains("tentative")
                && link.contains("LOWER_UP");
    }

    public String name() {
        return name;
    }

    /** The veth end on the host (the zone of {@link #HOST_LINK_LOCAL} as the host writes it). */
    public String hostInterface() {
        return hostInterface;
    }

    public String hostIpv4() {
        return hostIpv4;
    }

    public String vmIpv4() {
        return vmIpv4;
    }

    /** {@code [fe80::1%HOSTIF]:PORT}: how the host names its end, e.g. for {@code --vm-bind}. */
    public String hostLinkLocalEndpoint(int port) {
        return "[" + HOST_LINK_LOCAL + "%" + hostInterface + "]:" + port;
    }

    /** {@code [fe80::2%HOSTIF]:PORT}: the VM's end as the host reaches it. */
    public String vmLinkLocalEndpointFromHost(int port) {
        return "[" + VM_LINK_LOCAL + "%" + hostInterface + "]:" + port;
    }

    /** {@code http://[fe80::1%eth0]:PORT}: the host's end as the VM writes it (curl needs -g for the brackets). */
    public String hostUrlFromVm(int port) {
        return "http://[" + HOST_LINK_LOCAL + "%" + VM_INTERFACE + "]:" + port;
    }

    /** Runs {@code cmd} inside the namespace, waiting at most 15 s for it. */
    public Result exec(String... cmd) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(cmd));
        return run(full);
    }

    /** {@code ip netns exec NAME} as a command prefix (e.g. for a node process started inside). */
    public List<String> execPrefix() {
        return List.of("ip", "netns", "exec", name);
    }

    /** Deletes the namespace (which takes the pair with it) and the host end, should it remain. */
    @Override
    public void close() throws IOException {
        run(List.of("ip", "netns", "del", name));
        run(List.of("ip", "link", "del", hostInterface));
    }

    @Override
    public String toString() {
        return name + " (" + hostInterface + " " + hostIpv4 + " / " + VM_INTERFACE + " " + vmIpv4 + ")";
    }

    private void must(String... cmd) throws IOException {
        check(run(List.of(cmd)), List.of(cmd));
    }

    private void mustIn(String... cmd) throws IOException {
        check(exec(cmd), List.of(cmd));
    }

    private static void check(Result r, List<String> cmd) throws IOException {
        if (r.exit() != 0) {
            throw new IOException(String.join(" ", cmd) + " exited with " + r.exit() + ": " + r.stderr().trim());
        }
    }

    private static Result run(List<String> cmd) throws IOException {
        Path out = Files.createTempFile("kgv", ".out");
        Path err = Files.createTempFile("kgv", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            boolean done;
            try {
                done = p.waitFor(COMMAND_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
                throw new IOException("interrupted: " + cmd, e);
            }
            if (!done) {
                p.destroyForcibly();
            }
            return new Result(done ? p.exitValue() : -1, Files.readAllBytes(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
