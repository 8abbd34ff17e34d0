package io.knowngood.bench;

import io.knowngood.testkit.measure.Percentiles;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.ObjectMessage;
import org.jgroups.Receiver;
import org.jgroups.protocols.FD_ALL3;
import org.jgroups.protocols.FRAG4;
import org.jgroups.protocols.MERGE3;
import org.jgroups.protocols.SHARED_LOOPBACK;
import org.jgroups.protocols.SHARED_LOOPBACK_PING;
import org.jgroups.protocols.UNICAST3;
import org.jgroups.protocols.VERIFY_SUSPECT2;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.protocols.pbcast.STABLE;

/**
 * Growth beyond this machine: how the cost of a membership change and of a 64 KiB broadcast grows
 * with 50, 100 and 200 JGroups members simulated in one JVM over SHARED_LOOPBACK (no real network:
 * this isolates protocol cost per member). Run: {@code bench/run.sh GrowthBench [-Dbench.sizes=50,100,200]}
 */
public final class GrowthBench {
    private static final int[] SIZES = java.util.Arrays.stream(System.getProperty("bench.sizes", "50,100,200").split(","))
            .mapToInt(s -> Integer.parseInt(s.trim())).toArray();

    private GrowthBench() {
    }

    public static void main(String[] args) {
        Results.main("GrowthBench", args, GrowthBench::measure);
    }

    private static void measure(Results results) throws Exception {
        Results.Table t = results.table("growth with cluster size (JGroups members in one JVM, SHARED_LOOPBACK)", "members",
                "join of the last member until all see it, ms", "64 KiB broadcast to all p50 / p99 / max ms");
        for (int size : SIZES) {
            run(t, size);
        }
    }

    private static JChannel channel(String cluster, String name) throws Exception {
        return new JChannel(new SHARED_LOOPBACK(), new SHARED_LOOPBACK_PING(), new MERGE3(),
                new FD_ALL3(), new VERIFY_SUSPECT2(), new NAKACK2(), new UNICAST3(), new STABLE(),
                new GMS().setJoinTimeout(500), new FRAG4()).name(name);
    }

    private static void run(Results.Table t, int size) throws Exception {
        String cluster = "growth-" + size;
        List<JChannel> members = new ArrayList<>();
        CountDownLatch[] latch = new CountDownLatch[1];
        try {
            for (int i = 0; i < size - 1; i++) {
                JChannel ch = channel(cluster, "m" + i);
                ch.setReceiver(new Receiver() {
                    @Override
                    public void receive(Message msg) {
                        CountDownLatch l = latch[0];
                        if (l != null) {
                            l.countDown();
                        }
                    }
                });
                ch.connect(cluster);
                members.add(ch);
            }
            Awaitility.await().atMost(java.time.Duration.ofMinutes(2))
                    .until(() -> members.stream().allMatch(m -> m.getView().size() == size - 1));
            JChannel last = channel(cluster, "m" + (size - 1));
            last.setReceiver(new Receiver() {
                @Override
                public void receive(Message msg) {
                    CountDownLatch l = latch[0];
                    if (l != null) {
                        l.countDown();
                    }
                }
            });
            long t0 = System.nanoTime();
            last.connect(cluster);
            members.add(last);
            Awaitility.await().atMost(java.time.Duration.ofMinutes(2)).pollInterval(java.time.Duration.ofMillis(1))
                    .until(() -> members.stream().allMatch(m -> m.getView().size() == size));
            double joinMs = (System.nanoTime() - t0) / 1e6;
            Percentiles bcast = new Percentiles();
            byte[] payload = new byte[64 * 1024];
            for (int round = 0; round < 20; round++) {
                latch[0] = new CountDownLatch(size);
                long s = System.nanoTime();
                members.get(0).send(new ObjectMessage(null, payload));
                if (!latch[0].await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("broadcast did not reach all " + size);
                }
                bcast.add((System.nanoTime() - s) / 1e6);
            }
            t.row(size, Math.round(joinMs), bcast.summary());
        } finally {
            for (int i = members.size() - 1; i >= 0; i--) {
                members.get(i).close();
            }
        }
    }
}
