package io.knowngood.node.pools;

import io.knowngood.crypto.bundle.PoolName;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * A node's pools: which VM source addresses belong to which pool ({@code --pool
 * finance=192.168.10.0/24,fd00:10::/64}). {@link #poolsOf} maps the TCP source address of a VM's
 * request to the set of pools whose prefixes contain it: pools may overlap, an address in none gets
 * the empty set (it sees only bundles without pools). Immutable and thread-safe.
 */
public final class PoolMap {

    private static final PoolMap NONE = new PoolMap(Map.of());

    /** pool name -> its prefixes, sorted by name. */
    private final Map<String, List<IpPrefix>> pools;
    /** Every (prefix, pool) pair, for the scan {@link #poolsOf} makes. */
    private final List<IpPrefix> prefixes = new ArrayList<>();
    private final List<String> owners = new ArrayList<>();

    private PoolMap(Map<String, List<IpPrefix>> pools) {
        this.pools = Collections.unmodifiableMap(new TreeMap<>(pools));
        this.pools.forEach((name, list) -> list.forEach(p -> {
            prefixes.add(p);
            owners.add(name);
        }));
    }

    /** No pools: every VM gets the empty set, so only bundles without pools are served. */
    public static PoolMap none() {
        return NONE;
    }

    /** What {@link #parse} found: the map, or the first problem as one line. */
    public sealed interface Parsed {
        record Ok(PoolMap pools) implements Parsed {}

        record Bad(String reason) implements Parsed {}
    }

    /** Parses pool name -> prefix texts (the YAML {@code pools:} map). Every pool needs at least one prefix. */
    public static Parsed parse(Map<String, List<String>> given) {
        Map<String, List<IpPrefix>> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : given.entrySet()) {
            String name = e.getKey();
            if (!PoolName.isValid(name)) {
                return new Parsed.Bad("pool name '" + name + "' must match " + PoolName.RULE);
            }
            List<String> texts = e.getValue() == null ? List.of() : e.getValue();
            List<IpPrefix> list = new ArrayList<>();
            for (String t : texts) {
                IpPrefix.Parsed p = IpPrefix.parse(t);
                if (p instanceof IpPrefix.Parsed.Bad bad) {
                    return new Parsed.Bad("pool " + name + ": " + bad.reason());
                }
                IpPrefix prefix = ((IpPrefix.Parsed.Ok) p).prefix();
                if (!list.contains(prefix)) {
                    list.add(prefix);
                }
            }
            if (list.isEmpty()) {
                return new Parsed.Bad("pool " + name + " has no prefixes (expected NAME=PREFIX[,PREFIX...])");
            }
            out.put(name, List.copyOf(list));
        }
        return new Parsed.Ok(out.isEmpty() ? NONE : new PoolMap(out));
    }

    /**
     * Parses the flags' form, one {@code NAME=PREFIX[,PREFIX...]} per {@code --pool}; a pool named
     * twice is an error (its prefixes belong in one flag).
     */
    public static Parsed parseFlags(List<String> flags) {
        Map<String, List<String>> given = new LinkedHashMap<>();
        for (String f : flags) {
            int eq = f.indexOf('=');
            if (eq < 0) {
                return new Parsed.Bad("--pool: expected NAME=PREFIX[,PREFIX...], got '" + f + "'");
            }
            String name = f.substring(0, eq).trim();
            List<String> texts = new ArrayList<>();
            for (String part : f.substring(eq + 1).split(",", -1)) {
                if (!part.isBlank()) {
                    texts.add(part.trim());
                }
            }
            if (given.put(name, texts) != null) {
                return new Parsed.Bad("pool " + name + " given twice; list all its prefixes in one --pool " + name + "=A,B");
            }
        }
        return parse(given);
    }

    /**
     * The pools a VM at {@code source} (its TCP source address, never anything it sent) belongs to:
     * IPv4-mapped IPv6 is matched as IPv4, a zone or scope id is ignored. Sorted; empty when none.
     */
    public Set<String> poolsOf(InetAddress source) {
        if (prefixes.isEmpty()) {
            return Set.of();
        }
        Set<String> in = null;
        for (int i = 0; i < prefixes.size(); i++) {
            if (prefixes.get(i).contains(source)) {
                if (in == null) {
                    in = new TreeSet<>();
                }
                in.add(owners.get(i));
            }
        }
        return in == null ? Set.of() : Collections.unmodifiableSet(in);
    }

    /** Pool name -> its prefixes (canonical form), sorted by name. */
    public Map<String, List<IpPrefix>> pools() {
        return pools;
    }

    public boolean isEmpty() {
        return pools.isEmpty();
    }

    public int size() {
        return pools.size();
    }

    /** {@code finance=192.168.10.0/24,fd00:10::/64 kiosk=10.1.0.0/16}: for the start-up log line. */
    @Override
    public String toString() {
        return pools.entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue().stream().map(IpPrefix::toString).collect(Collectors.joining(",")))
                .collect(Collectors.joining(" "));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PoolMap m && m.pools.equals(pools);
    }

    @Override
    public int hashCode() {
        return pools.hashCode();
    }
}
