package io.knowngood.node.rollout;

import io.knowngood.replication.MeshRecords;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An in-memory stand-in for replication's records (a seam this project owns; the real one is tested
 * in replication): members see each other's records at once unless {@link #partition} separated
 * them; {@link #heal} delivers what each side missed. Synchronous, so rule tests need no waiting; a
 * member's puts reach each other member in order, as the mesh's do.
 */
final class SharedRecords {

    private final Map<String, Member> members = new HashMap<>();
    private final Map<String, Integer> side = new HashMap<>();

    synchronized Member member(String id) {
        return members.computeIfAbsent(id, Member::new);
    }

    /** Members in {@code alone} only see each other until {@link #heal}. */
    synchronized void partition(Set<String> alone) {
        members.keySet().forEach(id -> side.put(id, alone.contains(id) ? 1 : 0));
    }

    void heal() {
        List<Member> all;
        synchronized (this) {
            side.clear();
            all = new ArrayList<>(members.values());
        }
        for (Member from : all) {
            for (Map.Entry<String, byte[]> e : new HashMap<>(from.own).entrySet()) {
                for (Member to : all) {
                    if (to != from) {
                        to.receive(from.id, e.getKey(), e.getValue());
                    }
                }
            }
        }
    }

    private synchronized boolean connected(String a, String b) {
        return side.getOrDefault(a, 0).equals(side.getOrDefault(b, 0));
    }

    final class Member implements MeshRecords {
        final String id;
        final Map<String, byte[]> own = new HashMap<>();
        /** key -> member -> value, as this member last received it. */
        final Map<String, Map<String, byte[]>> seen = new HashMap<>();
        final List<Listener> listeners = new CopyOnWriteArrayList<>();

        Member(String id) {
            this.id = id;
        }

        @Override
        public PutResult putOwn(String key, byte[] value) {
            synchronized (this) {
                own.put(key, value.clone());
            }
            listeners.forEach(l -> l.changed(key, id));
            List<Member> others;
            synchronized (SharedRecords.this) {
                others = new ArrayList<>(members.values());
            }
            for (Member m : others) {
                byte[] latest;
                synchronized (this) {
                    latest = own.get(key);
                }
                // The latest value, not this put's: a listener run by an earlier delivery may have put
                // the key again already, and the mesh delivers one member's puts in order (FIFO), so a
                // later member must not be handed the older value last.
                if (m != this && latest != null && connected(id, m.id)) {
                    m.receive(id, key, latest);
                }
            }
            return PutResult.STORED;
        }

        /** A rogue member writing whatever it likes under its own id. */
        void receive(String from, String key, byte[] value) {
            synchronized (this) {
                seen.computeIfAbsent(key, k -> new HashMap<>()).put(from, value.clone());
            }
            listeners.forEach(l -> l.changed(key, from));
        }

        @Override
        public void removeOwn(String key) {
            synchronized (this) {
                own.remove(key);
            }
        }

        @Override
        public synchronized Map<String, Map<String, byte[]>> snapshot() {
            Map<String, Map<String, byte[]>> out = new HashMap<>();
            seen.forEach((k, v) -> out.put(k, new HashMap<>(v)));
            own.forEach((k, v) -> out.computeIfAbsent(k, x -> new HashMap<>()).put(id, v));
            return out;
        }

        @Override
        public String selfId() {
            return id;
        }

        @Override
        public void addListener(Listener listener) {
            listeners.add(listener);
        }

        synchronized Set<String> keys() {
            return new HashSet<>(seen.keySet());
        }
    }
}
