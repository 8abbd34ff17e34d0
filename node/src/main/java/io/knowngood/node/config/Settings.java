package io.knowngood.node.config;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Every kgnode setting, once: the same field is a YAML key (Jackson) and a command-line flag
 * (picocli), both spelled the same in kebab case. A null field means "not given here"; {@link
 * #overlay} lets flags override the file, and {@link NodeConfig#resolve} applies the defaults and
 * validates. Defaults and trade-offs are documented in docs/kgnode.md and packaging/kgnode.yaml.
 */
public final class Settings {

    @JsonProperty("node-id")
    @Option(names = "--node-id", paramLabel = "ID", description = "Unique id of this node in the mesh. Default: $HOSTNAME, else the host's name (/proc/sys/kernel/hostname), else 'kgnode'.")
    public String nodeId;

    @JsonProperty("cluster-name")
    @Option(names = "--cluster-name", paramLabel = "NAME", description = "Mesh name; nodes only join a mesh of the same name. Default: knowngood.")
    public String clusterName;

    @JsonProperty("data-dir")
    @Option(names = "--data-dir", paramLabel = "DIR", description = "Last-known-good store. Default: ./kgnode-data.")
    public String dataDir;

    @JsonProperty("floor-file")
    @Option(names = "--floor-file", paramLabel = "FILE", description = "Durable rollback floor, kept apart from the data dir. Default: <data-dir>.floor.")
    public String floorFile;

    @JsonProperty("cluster-bind")
    @Option(names = "--cluster-bind", paramLabel = "IP:PORT", description = "Mesh (peer) address. Default: 127.0.0.1:7800.")
    public String clusterBind;

    @JsonProperty("peers")
    @Option(names = "--peers", split = ",", paramLabel = "IP:PORT", description = "Initial peers to contact. Default: none (a one-node mesh).")
    public List<String> peers;

    @JsonProperty("site")
    @Option(names = "--site", paramLabel = "NAME", description = "This mesh is the site NAME of several, bridged by cross-site replication (needs --sites). Default: none (one mesh, no sites).")
    public String site;

    @JsonProperty("sites")
    @Option(names = "--sites", split = ",", paramLabel = "NAME", description = "The other sites' names; bundles are backed up to each. Needs --site. Default: none.")
    public List<String> sites;

    @JsonProperty("site-bridge")
    @Option(names = "--site-bridge", paramLabel = "IP:PORT", description = "Where this node listens for other sites' bridges when it is its site's master (PORT and PORT+1), with the mesh TLS. Default: none (this node never relays for its site).")
    public String siteBridge;

    @JsonProperty("site-peers")
    @Option(names = "--site-peers", split = ",", paramLabel = "IP:PORT", description = "The other sites' --site-bridge addresses. Needed with --site-bridge. Default: none.")
    public List<String> sitePeers;

    @JsonProperty("vm-bind")
    @Option(names = "--vm-bind", split = ",", paramLabel = "IP:PORT", description = "VM endpoint addresses. Default: 127.0.0.1:8780.")
    public List<String> vmBind;

    @JsonProperty("admin-bind")
    @Option(names = "--admin-bind", paramLabel = "IP:PORT", description = "Admin endpoint address. Default: 127.0.0.1:8781.")
    public String adminBind;

    @JsonProperty("admin-token-file")
    @Option(names = "--admin-token-file", paramLabel = "FILE", description = "Bearer token for the admin endpoint. Default: <data-dir>/admin.token, generated (0600) if missing.")
    public String adminTokenFile;

    @JsonProperty("trust-key")
    @Option(names = "--trust-key", paramLabel = "FILE", description = "Trusted publisher public key (PEM); repeatable. Default: none (every bundle is refused).")
    public List<String> trustKey;

    @JsonProperty("host-label")
    @Option(names = "--host-label", paramLabel = "KEY=VALUE", description = "A label of this host that rollout waves can select ({\"labels\": {\"rack\": \"r1\"}}); repeatable. Default: none.")
    public List<String> hostLabel;

    @JsonIgnore
    @Option(names = "--pool", paramLabel = "NAME=PREFIX[,PREFIX...]", description = "A pool of VMs by source address: "
            + "IPv4 and IPv6 prefixes (a bare address is a /32 or /128); a bundle packed with --pool NAME is served only to "
            + "VMs in that pool. Repeatable; given here, replaces the file's pools. Default: none (only bundles without pools are served).")
    public List<String> pool;

    /** The YAML form of {@link #pool}: {@code pools: {finance: [192.168.10.0/24, "fd00:10::/64"]}}. */
    @JsonProperty("pools")
    public Map<String, List<String>> pools;

    @JsonProperty("cluster-tls-dir")
    @Option(names = "--cluster-tls-dir", paramLabel = "DIR", description = "Mesh TLS credentials (node.p12, truststore.p12, store.pass from the mesh CA). Default: none (plaintext mesh: trying out only).")
    public String clusterTlsDir;

    @JsonProperty("admin-tls-dir")
    @Option(names = "--admin-tls-dir", paramLabel = "DIR", description = "Serve the admin endpoint over HTTPS with these credentials (node.p12, truststore.p12, store.pass from 'kgctl mesh cert issue ... --ip ADMIN_IP'; may be the cluster TLS directory). Default: none (plain HTTP).")
    public String adminTlsDir;

    @JsonProperty("standalone")
    @Option(names = "--standalone", arity = "0..1", paramLabel = "true|false", description = "Run without a mesh: serve and accept publishes locally only. Default: false.")
    public Boolean standalone;

    @JsonProperty("mesh-timings")
    @Option(names = "--mesh-timings", paramLabel = "lan|local-testing", description = "Failure detection and merge timers. Default: lan.")
    public String meshTimings;

    @JsonProperty("log-format")
    @Option(names = "--log-format", paramLabel = "text|json", description = "Log lines on stderr as text, or as one JSON object per line for log shippers. Default: $KGNODE_LOG_FORMAT, else text.")
    public String logFormat;

    @JsonProperty("publish-timeout")
    @Option(names = "--publish-timeout", paramLabel = "DURATION", description = "How long a publish waits for peers before answering. Default: 10s.")
    public String publishTimeout;

    @JsonProperty("keep-versions")
    @Option(names = "--keep-versions", paramLabel = "N", description = "Versions kept on disk per bundle name. Default: 5.")
    public Integer keepVersions;

    @JsonProperty("max-file-bytes")
    @Option(names = "--max-file-bytes", paramLabel = "BYTES", description = "Largest file in a bundle. Default: 16777216.")
    public Long maxFileBytes;

    @JsonProperty("max-bundle-bytes")
    @Option(names = "--max-bundle-bytes", paramLabel = "BYTES", description = "Largest bundle archive. Default: 67108864.")
    public Long maxBundleBytes;

    @JsonProperty("max-held-bytes")
    @Option(names = "--max-held-bytes", paramLabel = "BYTES", description = "Most archive bytes held in memory for all "
            + "served bundles together; a publish or a peer's bundle beyond it is refused (507 over_budget) instead of "
            + "running out of heap. Default: 0, meaning half the maximum heap.")
    public Long maxHeldBytes;

    @JsonProperty("max-files")
    @Option(names = "--max-files", paramLabel = "N", description = "Most files in a bundle. Default: 10000.")
    public Integer maxFiles;

    @JsonProperty("damaged-fallback-delay")
    @Option(names = "--damaged-fallback-delay", paramLabel = "DURATION", description = "When the newest copy of a bundle is found damaged, how long peers get to supply it again before the previous version is served. Default: 15s (0 without peers).")
    public String damagedFallbackDelay;

    @JsonProperty("scrub-interval")
    @Option(names = "--scrub-interval", paramLabel = "DURATION", description = "How often the store re-verifies every copy on disk. Default: 15m; 0 disables.")
    public String scrubInterval;

    @JsonProperty("max-header-bytes")
    @Option(names = "--max-header-bytes", paramLabel = "BYTES", description = "Largest request head (line + headers) answered; bigger gets 431. Default: 16384.")
    public Integer maxHeaderBytes;

    @JsonProperty("max-uri-bytes")
    @Option(names = "--max-uri-bytes", paramLabel = "BYTES", description = "Longest request target; longer gets 414. Default: 2048.")
    public Integer maxUriBytes;

    @JsonProperty("header-timeout")
    @Option(names = "--header-timeout", paramLabel = "DURATION", description = "Time allowed to receive a whole request head (slowloris cut). Default: 10s.")
    public String headerTimeout;

    @JsonProperty("idle-timeout")
    @Option(names = "--idle-timeout", paramLabel = "DURATION", description = "Keep-alive connection with no request in progress is closed after this. Default: 60s.")
    public String idleTimeout;

    @JsonProperty("body-timeout")
    @Option(names = "--body-timeout", paramLabel = "DURATION", description = "Time allowed to upload a publish body on the admin endpoint. Default: 60s.")
    public String bodyTimeout;

    @JsonProperty("long-poll-max-wait")
    @Option(names = "--long-poll-max-wait", paramLabel = "DURATION", description = "Cap on ?wait=S. Default: 300s.")
    public String longPollMaxWait;

    @JsonProperty("max-connections-per-client")
    @Option(names = "--max-connections-per-client", paramLabel = "N", description = "Open connections allowed per client IP on the VM endpoint. Default: 32.")
    public Integer maxConnectionsPerClient;

    @JsonProperty("max-connections")
    @Option(names = "--max-connections", paramLabel = "N", description = "Open connections allowed in total on the VM endpoint. Default: 20000.")
    public Integer maxConnections;

    @JsonProperty("io-threads")
    @Option(names = "--io-threads", paramLabel = "N", description = "HTTP I/O threads (non-blocking). Default: 2.")
    public Integer ioThreads;

    @JsonProperty("worker-threads")
    @Option(names = "--worker-threads", paramLabel = "N", description = "Threads for blocking work (publish verification). Default: 4.")
    public Integer workerThreads;

    /** Returns a copy of {@code base} with every field that {@code top} sets replaced by top's value. */
    public static Settings overlay(Settings base, Settings top) {
        Settings out = new Settings();
        try {
            for (Field f : Settings.class.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                Object t = top == null ? null : f.get(top);
                Object b = base == null ? null : f.get(base);
                f.set(out, t != null ? t : b);
            }
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }
}
