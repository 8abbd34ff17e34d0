package io.knowngood.api;

import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Admin {@code GET /v1/bundles}: every name the mesh holds, as one node sees it: the version held
 * here (if any), its rollback floor, and the version each member holds.
 */
public record MeshBundleList(List<Entry> bundles) {

    public MeshBundleList {
        bundles = bundles == null ? List.of() : List.copyOf(bundles);
    }

    public Optional<Entry> get(String name) {
        return bundles.stream().filter(e -> e.name().equals(name)).findFirst();
    }

    /**
     * One name. {@code version}, {@code digest}, {@code retired}, {@code withheld} and
     * {@code created} are null when this node holds no copy (only members do).
     *
     * @param withheld held below its floor and not served to VMs
     * @param floor the highest version ever accepted here, if any
     * @param members member id to the version it holds
     */
    public record Entry(String name, Long version, String digest, Boolean retired, Boolean withheld, Instant created,
                        Long floor, Map<String, Long> members) {

        public Entry {
            Objects.requireNonNull(name, "name");
            members = members == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(members));
        }

        public static Entry held(String name, long version, String digest, boolean retired, boolean withheld,
                                     Instant created, Long floor, Map<String, Long> members) {
            return new Entry(name, version, digest, retired, withheld, created, floor, members);
        }

        /** A name only other members hold (a floor may remain here from an earlier copy). */
        public static Entry membersOnly(String name, Long floor, Map<String, Long> members) {
            return new Entry(name, null, null, null, null, null, floor, members);
        }

        public boolean heldHere() {
            return version != null;
        }

        /** True when the copy held here is a retired tombstone. */
        public boolean retiredHere() {
            return Boolean.TRUE.equals(retired);
        }

        /** The highest version of this name anyone has seen: the next publish must be above it. */
        public long highest() {
            long h = Math.max(version == null ? 0 : version, floor == null ? 0 : floor);
            for (long v : members.values()) {
                h = Math.max(h, v);
            }
            return h;
        }
    }
}
