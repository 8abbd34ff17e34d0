package io.knowngood.node.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.PropertyBindingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.knowngood.crypto.bundle.RolloutPolicy;
import io.knowngood.node.pools.PoolMap;
import io.knowngood.replication.MeshConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The resolved, validated configuration of one kgnode: defaults, overridden by the YAML file,
 * overridden by flags. With nothing given it describes "try it" mode: a one-node mesh on loopback
 * with a data dir under the working directory.
 */
public record NodeConfig(
        String nodeId,
        String clusterName,
        Path dataDir,
        Path floorFile,
        IpEndpoint clusterBind,
        List<IpEndpoint> peers,
        List<IpEndpoint> vmBind,
        IpEndpoint adminBind,
        Path adminTokenFile,
        List<Path> trustKeys,
        Optional<Path> clusterTlsDir,
        Optional<Path> adminTlsDir,
        boolean standalone,
        MeshTimings meshTimings,
        LogFormat logFormat,
        Duration publishTimeout,
        int keepVersions,
        long maxFileBytes,
        long maxBundleBytes,
        int maxFiles,
        long maxHeldBytes,
        Duration scrubInterval,
        Duration damagedFallbackDelay,
        Map<String, String> hostLabels,
        HttpLimits http,
        PoolMap pools,
        Optional<Site> site) {

    /**
     * This mesh as one site of several (flags {@code --site}, {@code --sites}, {@code --site-bridge},
     * {@code --site-peers}); empty without {@code --site}.
     */
    public record Site(String name, List<String> others, Optional<IpEndpoint> bridge, List<IpEndpoint> peers) {
        public Site {
            others = List.copyOf(others);
            peers = List.copyOf(peers);
        }
    }

    /** Which named set of mesh timers to use (see MeshConfig.Timings in replication). */
    public enum MeshTimings { LAN, LOCAL_TESTING }

    public NodeConfig {
        if (nodeId == null || !nodeId.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new IllegalArgumentException("node-id must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}, got '" + nodeId + "'");
        }
        if (clusterName == null || !clusterName.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new IllegalArgumentException("cluster-name must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}, got '" + clusterName + "'");
        }
        if (vmBind.isEmpty()) {
            throw new IllegalArgumentException("vm-bind needs at least one address");
        }
        checkDistinct(vmBind, adminBind, clusterBind);
        LinkLocalZones.check(vmBind, adminBind, clusterBind, peers, standalone);
        if (keepVersions < 1) {
            throw new IllegalArgumentException("keep-versions must be >= 1, got " + keepVersions);
        }
        if (maxHeldBytes < 0) {
            throw new IllegalArgumentException("max-held-bytes must be >= 0 (0: half the maximum heap), got " + maxHeldBytes);
        }
        if (maxFileBytes < 1 || maxBundleBytes < 1 || maxFiles < 1) {
            throw new IllegalArgumentException("max-file-bytes, max-bundle-bytes and max-files must be >= 1");
        }
        if (publishTimeout.isNegative() || publishTimeout.isZero()) {
            throw new IllegalArgumentException("publish-timeout must be > 0");
        }
        if (scrubInterval.isNegative()) {
            throw new IllegalArgumentException("scrub-interval must be >= 0");
        }
        if (damagedFallbackDelay.isNegative()) {
            throw new IllegalArgumentException("damaged-fallback-delay must be >= 0");
        }
        peers = List.copyOf(peers);
        vmBind = List.copyOf(vmBind);
        trustKeys = List.copyOf(trustKeys);
        hostLabels = Map.copyOf(new TreeMap<>(hostLabels));
        pools = pools == null ? PoolMap.none() : pools;
        site = site == null ? Optional.empty() : site;
        site.ifPresent(st -> checkSite(st, clusterBind));
    }

    private static final String NAME = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";

    private static final String FAILURE_DETECTION_PORT = "cluster-bind's port + 1 (failure detection)";

    /**
     * Every endpoint binds its own address and port: two on one would fail the start with the OS's "Address
     * already in use", naming neither option. Port 0 (any free port) never clashes.
     */
    private static void checkDistinct(List<IpEndpoint> vmBind, IpEndpoint adminBind, IpEndpoint clusterBind) {
        List<Bind> all = Bind.all(vmBind, adminBind, clusterBind, true);
        if (clusterBind.port() != 0 && clusterBind.port() < 65_535) {
            all.add(new Bind(FAILURE_DETECTION_PORT, clusterBind.withPort(clusterBind.port() + 1)));
        }
        Map<IpEndpoint, String> seen = new HashMap<>();
        for (Bind b : all) {
            if (b.endpoint().port() == 0) {
                continue;
            }
            String before = seen.putIfAbsent(b.endpoint(), b.setting());
            if (before != null) {
                boolean fdPort = b.setting().equals(FAILURE_DETECTION_PORT); // name the user's option first
                String what = fdPort ? before : b.setting();
                String other = fdPort ? b.setting() : before;
                throw new IllegalArgumentException(before.equals(b.setting())
                        ? b.setting() + " " + b.endpoint() + " is given twice"
                        : what + " " + b.endpoint() + " is also the " + other + ": each endpoint needs its own address or port");
            }
        }
    }

    private static void checkSite(Site st, IpEndpoint clusterBind) {
        if (!st.name().matches(NAME)) {
            throw new IllegalArgumentException("site must match " + NAME + ", got '" + st.name() + "'");
        }
        for (String o : st.others()) {
            if (!o.matches(NAME)) {
                throw new IllegalArgumentException("sites: each name must match " + NAME + ", got '" + o + "'");
            }
        }
        if (st.others().stream().noneMatch(o -> !o.equals(st.name()))) {
            throw new IllegalArgumentException("sites: name the other sites this site backs up to (e.g. --sites west), got none");
        }
        if (st.bridge().isPresent() && st.peers().isEmpty()) {
            throw new IllegalArgumentException("site-peers: a node with --site-bridge needs the other sites' bridge addresses");
        }
        st.bridge().ifPresent(b -> {
            int p = b.socketAddress().getPort();
            int c = clusterBind.socketAddress().getPort();
            if (b.socketAddress().getAddress().equals(clusterBind.socketAddress().getAddress()) && Math.abs(p - c) <= 1) {
                throw new IllegalArgumentException("site-bridge " + b + " overlaps cluster-bind " + clusterBind
                        + " (each uses PORT and PORT+1)");
            }
            if (p > 65534) {
                throw new IllegalArgumentException("site-bridge port must be 1..65534 (PORT+1 is taken too), got " + p);
            }
        });
    }

    /** Loads the YAML file (if any), lays the flags over it, applies defaults, validates. */
    public static NodeConfig load(Optional<Path> configFile, Settings flags) throws IOException {
        return load(configFile, flags, System.getenv());
    }

    /** As {@link #load(Optional, Settings)}; {@code env} supplies {@code KGNODE_LOG_FORMAT} when neither flags nor file set log-format. */
    static NodeConfig load(Optional<Path> configFile, Settings flags, Map<String, String> env) throws IOException {
        Settings fromFile = configFile.isPresent() ? readYaml(configFile.get()) : new Settings();
        Settings merged = Settings.overlay(fromFile, flags);
        String fromEnv = env.get(LogFormat.ENV);
        if (merged.logFormat == null && fromEnv != null && !fromEnv.isBlank()) {
            LogFormat.parse(LogFormat.ENV, fromEnv); // a bad value is reported as the variable's, not as log-format's
            merged.logFormat = fromEnv;
        }
        return resolve(merged);
    }

    /**
     * Reads a YAML config. Every mistake is a one-line error naming the file and, where the parser knows
     * it, the line: an unknown key (so a typo never silently becomes a default, with the spelling meant when
     * it is a near miss), a key given twice, a value of the wrong shape, a syntax error. A file that cannot be
     * read throws the JDK's own exception (kgnode says what is wrong with it). An empty file, or one of
     * comments only, is no settings.
     */
    public static Settings readYaml(Path file) throws IOException {
        YAMLMapper mapper = YAMLMapper.builder().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_IGNORED_PROPERTIES) // "pool:" (the flag's spelling) is a typo for "pools:"
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION) // which of two values would count is a guess
                .build();
        if (Files.isDirectory(file)) { // else the JDK's bare "Is a directory", without the path
            throw new IOException(file + ": is a directory, not a configuration file");
        }
        try (JsonParser parser = mapper.createParser(Files.readAllBytes(file))) {
            if (parser.nextToken() == null) {
                return new Settings(); // no document at all
            }
            Settings s = mapper.readValue(parser, Settings.class);
            return s == null ? new Settings() : s;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(yamlError(file, e), e);
        }
    }

    private static String yamlError(Path file, JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        String where = file + (at != null && at.getLineNr() > 0 ? " line " + at.getLineNr() : "");
        if (e instanceof PropertyBindingException p) {
            String key = p.getPropertyName();
            String meant = nearMiss(key, p.getKnownPropertyIds());
            return where + ": unknown setting '" + key + "'" + (meant == null ? "" : " (did you mean '" + meant + "'?)");
        }
        String path = e instanceof JsonMappingException m && !m.getPath().isEmpty()
                ? m.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                        .collect(Collectors.joining(".")) + ": "
                : "";
        if (e instanceof MismatchedInputException mi && mi.getTargetType() != null && !path.isEmpty()) {
            Class<?> t = mi.getTargetType();
            String expected = Collection.class.isAssignableFrom(t) ? "a list, like [a, b]"
                    : Map.class.isAssignableFrom(t) ? "a mapping, like {name: [value]}"
                    : t == Boolean.class ? "true or false"
                    : Number.class.isAssignableFrom(t) ? "a whole number" : "a single value";
            String got = e instanceof InvalidFormatException f && f.getValue() != null ? ", got '" + f.getValue() + "'" : "";
            return where + ": " + path + "expected " + expected + got;
        }
        String why = e.getOriginalMessage();
        int cut = why.indexOf('\n');
        return where + ": " + path + (cut < 0 ? why : why.substring(0, cut)).strip();
    }

    /** The known key {@code key} was probably meant for: the same with dashes, or the singular or plural. */
    private static String nearMiss(String key, Collection<Object> known) {
        if (key == null || known == null) {
            return null;
        }
        String dashed = key.replace('_', '-').toLowerCase(Locale.ROOT);
        for (Object k : known) {
            String s = String.valueOf(k);
            if (s.equals(dashed) || s.equals(dashed + "s") || (s + "s").equals(dashed)) {
                return s;
            }
        }
        return null;
    }

    /** Applies defaults to whatever {@code s} leaves null. */
    public static NodeConfig resolve(Settings s) {
        HttpLimits d = HttpLimits.defaults();
        Path dataDir = Path.of(or(s.dataDir, "kgnode-data"));
        Path floor = s.floorFile != null ? Path.of(s.floorFile)
                : dataDir.toAbsolutePath().normalize().resolveSibling(dataDir.toAbsolutePath().normalize().getFileName() + ".floor");
        HttpLimits http = new HttpLimits(
                or(s.maxHeaderBytes, d.maxHeaderBytes()),
                or(s.maxUriBytes, d.maxUriBytes()),
                s.headerTimeout == null ? d.headerTimeout() : parseDuration("header-timeout", s.headerTimeout),
                s.idleTimeout == null ? d.idleTimeout() : parseDuration("idle-timeout", s.idleTimeout),
                s.bodyTimeout == null ? d.bodyTimeout() : parseDuration("body-timeout", s.bodyTimeout),
                s.longPollMaxWait == null ? d.longPollMaxWait() : parseDuration("long-poll-max-wait", s.longPollMaxWait),
                or(s.maxConnectionsPerClient, d.maxConnectionsPerClient()),
                or(s.maxConnections, d.maxConnections()),
                or(s.ioThreads, d.ioThreads()),
                or(s.workerThreads, d.workerThreads()));
        return new NodeConfig(
                s.nodeId != null ? s.nodeId : defaultNodeId(),
                or(s.clusterName, "knowngood"),
                dataDir,
                floor,
                endpoint("cluster-bind", or(s.clusterBind, "127.0.0.1:7800")),
                endpoints("peers", s.peers, List.of()),
                endpoints("vm-bind", s.vmBind, List.of("127.0.0.1:8780")),
                endpoint("admin-bind", or(s.adminBind, "127.0.0.1:8781")),
                s.adminTokenFile != null ? Path.of(s.adminTokenFile) : dataDir.resolve("admin.token"),
                s.trustKey == null ? List.of() : s.trustKey.stream().map(Path::of).collect(Collectors.toList()),
                Optional.ofNullable(s.clusterTlsDir).map(Path::of),
                Optional.ofNullable(s.adminTlsDir).map(Path::of),
                s.standalone != null && s.standalone,
                parseTimings(or(s.meshTimings, "lan")),
                LogFormat.parse("log-format", or(s.logFormat, "text")),
                s.publishTimeout == null ? Duration.ofSeconds(10) : parseDuration("publish-timeout", s.publishTimeout),
                or(s.keepVersions, 5),
                or(s.maxFileBytes, 16L * 1024 * 1024),
                or(s.maxBundleBytes, 64L * 1024 * 1024),
                or(s.maxFiles, 10_000),
                or(s.maxHeldBytes, 0L),
                s.scrubInterval == null ? Duration.ofMinutes(15) : parseDuration("scrub-interval", s.scrubInterval),
                s.damagedFallbackDelay == null ? Duration.ofSeconds(15) : parseDuration("damaged-fallback-delay", s.damagedFallbackDelay),
                hostLabels(s.hostLabel),
                http,
                pools(s.pool, s.pools),
                site(s));
    }

    /** {@code --site} and its companions; the companions without {@code --site} are an error, not ignored. */
    private static Optional<Site> site(Settings s) {
        if (s.site == null || s.site.isBlank()) {
            String orphan = s.sites != null ? "sites" : s.siteBridge != null ? "site-bridge" : s.sitePeers != null ? "site-peers" : null;
            if (orphan != null) {
                throw new IllegalArgumentException(orphan + " needs --site NAME");
            }
            return Optional.empty();
        }
        if (Boolean.TRUE.equals(s.standalone)) {
            throw new IllegalArgumentException("site: a standalone node has no mesh to bridge; drop --standalone or --site");
        }
        List<String> others = s.sites == null ? List.of()
                : s.sites.stream().map(String::trim).filter(t -> !t.isEmpty()).collect(Collectors.toList());
        return Optional.of(new Site(s.site.trim(), others,
                Optional.ofNullable(s.siteBridge).map(t -> endpoint("site-bridge", t)),
                endpoints("site-peers", s.sitePeers, List.of())));
    }

    /** The held-bytes budget that applies: the configured one, or half of {@code maxHeap}. */
    public long effectiveMaxHeldBytes(long maxHeap) {
        return maxHeldBytes > 0 ? maxHeldBytes : maxHeap / 2;
    }

    /** The fallback delay that applies: none when no peer could supply a lost version anyway. */
    public Duration effectiveFallbackDelay() {
        return standalone || peers.isEmpty() ? Duration.ZERO : damagedFallbackDelay;
    }

    private static final Pattern DURATION = Pattern.compile("^(\\d+)(ms|s|m|h)$");

    /** {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}, or {@code 0}. */
    public static Duration parseDuration(String setting, String text) {
        String t = text.trim();
        if (t.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = DURATION.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException(setting + ": expected a duration like 500ms, 10s, 5m, 1h; got '" + text + "'");
        }
        long n = Long.parseLong(m.group(1));
        switch (m.group(2)) {
            case "ms": return Duration.ofMillis(n);
            case "s": return Duration.ofSeconds(n);
            case "m": return Duration.ofMinutes(n);
            default: return Duration.ofHours(n);
        }
    }

    private static MeshTimings parseTimings(String text) {
        switch (text) {
            case "lan": return MeshTimings.LAN;
            case "local-testing": return MeshTimings.LOCAL_TESTING;
            default: throw new IllegalArgumentException("mesh-timings: expected lan or local-testing, got '" + text + "'");
        }
    }

    private static IpEndpoint endpoint(String setting, String text) {
        try {
            return IpEndpoint.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(setting + ": " + e.getMessage(), e);
        }
    }

    private static List<IpEndpoint> endpoints(String setting, List<String> given, List<String> dflt) {
        List<String> texts = given != null ? given : dflt;
        return texts.stream().filter(t -> !t.isBlank()).map(t -> endpoint(setting, t)).collect(Collectors.toList());
    }

    /** {@code --host-label k=v}, repeatable: the labels rollout waves select hosts by (same rule as a wave's labels). */
    private static Map<String, String> hostLabels(List<String> given) {
        Map<String, String> out = new TreeMap<>();
        for (String t : given == null ? List.<String>of() : given) {
            int eq = t.indexOf('=');
            String k = eq < 0 ? "" : t.substring(0, eq).trim();
            String v = eq < 0 ? "" : t.substring(eq + 1).trim();
            if (!RolloutPolicy.isValidLabel(k) || !RolloutPolicy.isValidLabel(v)) {
                throw new IllegalArgumentException("host-label: expected KEY=VALUE, each 1-63 of letters, digits, . _ - (starting with a letter"
                        + " or digit), got '" + t + "'");
            }
            if (out.put(k, v) != null) {
                throw new IllegalArgumentException("host-label: " + k + " given twice");
            }
        }
        return out;
    }

    /** {@code --pool NAME=PREFIX,...} when any is given (replacing the file's), else the file's {@code pools:} map. */
    private static PoolMap pools(List<String> flags, Map<String, List<String>> file) {
        PoolMap.Parsed p = flags != null ? PoolMap.parseFlags(flags) : file != null ? PoolMap.parse(file) : new PoolMap.Parsed.Ok(PoolMap.none());
        if (p instanceof PoolMap.Parsed.Bad bad) {
            throw new IllegalArgumentException(bad.reason());
        }
        return ((PoolMap.Parsed.Ok) p).pools();
    }

    /** Where Linux keeps the host's name (what {@code hostname} prints); reading it resolves nothing. */
    static final Path KERNEL_HOSTNAME = Path.of("/proc/sys/kernel/hostname");

    private static String defaultNodeId() {
        return defaultNodeId(System.getenv(), KERNEL_HOSTNAME);
    }

    /**
     * {@code $HOSTNAME}, else the kernel's host name, else {@code kgnode}. A service has no {@code HOSTNAME}
     * in its environment (systemd sets none, and bash does not export its own), so without the kernel's
     * name every host installed from the package without a {@code node-id} was {@code kgnode}.
     */
    static String defaultNodeId(Map<String, String> env, Path kernelHostname) {
        String host = env.get("HOSTNAME");
        if (host == null || !MeshConfig.ID.matcher(host).matches()) {
            try {
                host = Files.isRegularFile(kernelHostname) ? Files.readString(kernelHostname, StandardCharsets.UTF_8).trim() : null;
            } catch (IOException | RuntimeException unreadable) {
                host = null;
            }
        }
        return host != null && MeshConfig.ID.matcher(host).matches() ? host : "kgnode";
    }

    private static <T> T or(T value, T dflt) {
        return value != null ? value : dflt;
    }
}
