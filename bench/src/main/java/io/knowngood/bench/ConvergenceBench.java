package io.knowngood.bench;

import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import io.knowngood.replication.Admission;
import io.knowngood.replication.BenchMeshes;
import io.knowngood.replication.LocalBundles;
import io.knowngood.replication.MemberInfo;
import io.knowngood.replication.Mesh;
import io.knowngood.replication.MeshConfig;
import io.knowngood.replication.MeshState;
import io.knowngood.replication.MeshView;
import io.knowngood.replication.PublishOutcome;
import io.knowngood.replication.VersionStamp;
import io.knowngood.testkit.measure.Percentiles;
import io.knowngood.testkit.process.NodeProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.infinispan.configuration.cache.CacheMode;

/**
 * Replication in one JVM (members over 127.0.0.1, plaintext, production timers {@code forLan()}), the
 * measurements behind docs/benchmarks-replication.md:
 * <ol>
 *   <li>Convergence after heal: five members split 2|3 (DISCARD above TCP), each side publishes new
 *   versions of the same names, heal; time from heal to every store holding the winner of every name.</li>
 *   <li>Publish latency, asynchronous vs synchronous replication, in a healthy cluster and right
 *   after a split that failure detection has not noticed yet.</li>
 * </ol>
 * Run: {@code bench/run.sh ConvergenceBench [-Dbench.cycles=20]}
 */
public final class ConvergenceBench {
    private static final int NAMES = 10;
    private static final Duration WAIT = Duration.ofSeconds(40);
    /** What production runs with. */
    private static final MeshConfig.Timings LAN = MeshConfig.Timings.forLan();

    private final KeyPair publisher = Ed25519Keys.generate();
    private final BundleVerifier verifier = new BundleVerifier(TrustedKeys.of(List.of(publisher.getPublic())), Limits.defaults());

    private ConvergenceBench() {
    }

    public static void main(String[] args) {
        Results.main("ConvergenceBench", args, r -> new ConvergenceBench().measure(r));
    }

    private void measure(Results results) throws Exception {
        int cycles = Integer.getInteger("bench.cycles", 20);
        results.param("cycles", cycles).param("names", NAMES).param("timings", "forLan");
        convergenceAfterHeal(results, cycles);
        publishLatency(results, CacheMode.REPL_ASYNC);
        publishLatency(results, CacheMode.REPL_SYNC);
    }

    private void convergenceAfterHeal(Results results, int cycles) throws IOException {
        Percentiles mergedView = new Percentiles();
        Percentiles converged = new Percentiles();
        Percentiles splitNoticed = new Percentiles();
        try (Members c = new Members("bench", 5, CacheMode.REPL_ASYNC)) {
            c.awaitViews(0, 1, 2, 3, 4);
            for (int cycle = 0; cycle < cycles; cycle++) {
                long t0 = System.nanoTime();
                BenchMeshes.split(c.meshes(0, 1), c.meshes(2, 3, 4));
                c.awaitViews(0, 1);
                c.awaitViews(2, 3, 4);
                double noticed = ms(t0);
                splitNoticed.add(noticed);
                long base = 10L * cycle;
                for (int n = 0; n < NAMES; n++) {
                    // minority wins even names, majority odd ones
                    c.publish(n % 2, "n" + n, base + (n % 2 == 0 ? 5 : 3));
                    c.publish(2 + n % 3, "n" + n, base + (n % 2 == 0 ? 4 : 6));
                }
                long heal = System.nanoTime();
                BenchMeshes.heal(c.meshes);
                Awaitility.await("merged view").atMost(WAIT).pollInterval(Duration.ofMillis(20))
                        .until(() -> c.meshes.stream().allMatch(m -> m.view().members().size() == 5));
                double merged = ms(heal);
                mergedView.add(merged);
                Awaitility.await("every winner everywhere").atMost(WAIT).pollInterval(Duration.ofMillis(20))
                        .until(() -> IntStream.range(0, NAMES).allMatch(n -> c.stores.stream()
                                .allMatch(s -> s.version("n" + n) == base + (n % 2 == 0 ? 5 : 6))));
                double done = ms(heal);
                converged.add(done);
                System.out.printf(Locale.ROOT, "cycle %d: split noticed %.0f ms, merged view %.0f ms, converged %.0f ms%n",
                        cycle, noticed, merged, done);
                c.awaitViews(0, 1, 2, 3, 4);
            }
        }
        results.table("Convergence after heal (5 members, 2|3 split, " + NAMES + " names written on both sides, " + cycles
                        + " cycles, Timings.forLan())", "measure", "p50 ms", "p99 ms", "max ms")
                .row("split noticed (both sides see their own view)", p(splitNoticed, 50), p(splitNoticed, 99), p(splitNoticed, 100))
                .row("heal to merged view on all 5", p(mergedView, 50), p(mergedView, 99), p(mergedView, 100))
                .row("heal to every store holding every winner", p(converged, 50), p(converged, 99), p(converged, 100));
    }

    private void publishLatency(Results results, CacheMode mode) throws IOException {
        Percentiles healthy = new Percentiles();
        Percentiles duringSplit = new Percentiles();
        List<String> splitOutcomes = new ArrayList<>();
        try (Members c = new Members("lat-" + mode.name().toLowerCase(Locale.ROOT), 3, mode)) {
            c.awaitViews(0, 1, 2);
            for (int v = 1; v <= 20; v++) {
                long t0 = System.nanoTime();
                PublishOutcome o = c.publish(0, "lat", v);
                healthy.add(ms(t0));
                if (!o.complete()) {
                    results.note(mode + ": healthy publish v" + v + " answered incomplete: " + o);
                }
            }
            long next = 100;
            for (int round = 0; round < 5; round++) {
                c.awaitViews(0, 1, 2);
                BenchMeshes.split(c.meshes(0), c.meshes(1, 2));
                long t0 = System.nanoTime();
                PublishOutcome o = c.publish(0, "lat", next++);
                duringSplit.add(ms(t0));
                splitOutcomes.add(o.membersHolding() + "/" + o.membersInView());
                BenchMeshes.heal(c.meshes);
            }
        }
        results.table("Publish latency, " + mode + " (3 members, publish timeout 5 s)", "situation", "p50 ms", "p99 ms", "max ms")
                .row("healthy cluster, until all 3 confirm", p(healthy, 50), p(healthy, 99), p(healthy, 100))
                .row("just after a split (publisher alone vs 2), not yet detected", p(duringSplit, 50), p(duringSplit, 99),
                        p(duringSplit, 100));
        results.note(mode + ": holding/in view reported by the publishes during the split: " + splitOutcomes);
    }

    private static long p(Percentiles s, double pct) {
        return Math.round(s.pct(pct));
    }

    private static double ms(long since) {
        return (System.nanoTime() - since) / 1e6;
    }

    private VerifiedBundle bundle(String name, long version) {
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("settings.conf", (name + " version " + version).getBytes(StandardCharsets.UTF_8));
        byte[] archive = BundlePacker.pack(name, version, files, Map.of(), publisher.getPrivate(), Clock.systemUTC());
        if (verifier.verify(archive) instanceof VerifyResult.Verified v) {
            return v.bundle();
        }
        throw new IllegalStateException("bench bundle does not verify");
    }

    /** Members in this JVM over loopback, each on its own free port pair with an in-memory store. */
    private final class Members implements AutoCloseable {
        final List<Mesh> meshes = new ArrayList<>();
        final List<Store> stores = new ArrayList<>();
        final List<String> ids = new ArrayList<>();

        Members(String name, int size, CacheMode mode) throws IOException {
            List<InetSocketAddress> addresses = new ArrayList<>();
            for (int port : NodeProcess.freePortPairs(size)) {
                addresses.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            }
            for (int i = 0; i < size; i++) {
                ids.add(name + "-" + i);
                Store s = new Store();
                stores.add(s);
                MeshConfig config = new MeshConfig(name + "-" + i, name, addresses.get(i), addresses, new MeshConfig.Plaintext(), LAN);
                meshes.add(BenchMeshes.create(config, verifier, s, mode));
            }
            meshes.forEach(Mesh::start);
        }

        List<Mesh> meshes(int... indexes) {
            return Arrays.stream(indexes).mapToObj(meshes::get).toList();
        }

        /** Stores a new version at member {@code i} (as the node does) and publishes it. */
        PublishOutcome publish(int i, String name, long version) {
            VerifiedBundle b = bundle(name, version);
            stores.get(i).offer(b, "publish");
            return meshes.get(i).publish(b);
        }

        /** Waits until each listed member sees a view of exactly the listed members. */
        void awaitViews(int... members) {
            Awaitility.await("view of " + Arrays.toString(members)).atMost(WAIT).until(() -> Arrays.stream(members).allMatch(i -> {
                MeshView v = meshes.get(i).view();
                return v.state() != MeshState.STARTING && v.state() != MeshState.STOPPED && v.members().size() == members.length
                        && v.members().stream().map(MemberInfo::id).allMatch(id -> Arrays.stream(members).anyMatch(j -> ids.get(j).equals(id)));
            }));
        }

        @Override
        public void close() {
            meshes.parallelStream().forEach(Mesh::close);
        }
    }

    /** The node's store as the benchmark needs it: the highest version per name. */
    private static final class Store implements LocalBundles {
        private final Map<String, VerifiedBundle> highest = new HashMap<>();

        @Override
        public synchronized Map<String, VersionStamp> digest() {
            Map<String, VersionStamp> d = new HashMap<>();
            highest.forEach((n, b) -> d.put(n, new VersionStamp(b.version(), b.manifestDigest())));
            return d;
        }

        @Override
        public synchronized Optional<VerifiedBundle> highest(String name) {
            return Optional.ofNullable(highest.get(name));
        }

        @Override
        public synchronized Admission offer(VerifiedBundle bundle, String source) {
            VerifiedBundle held = highest.get(bundle.name());
            if (held != null && bundle.version() <= held.version()) {
                return new Admission.Ignored("not newer than held v" + held.version());
            }
            highest.put(bundle.name(), bundle);
            return new Admission.Stored(bundle.version());
        }

        synchronized long version(String name) {
            VerifiedBundle b = highest.get(name);
            return b == null ? 0 : b.version();
        }
    }
}
