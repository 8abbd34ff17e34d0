package io.knowngood.replication;

import io.knowngood.crypto.bundle.Sha256;
import io.knowngood.crypto.files.AtomicFile;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster addresses this node's peers had in the last views, kept on disk (e.g. {@code
 * <data-dir>/mesh-peers}) so that a node whose configured peer list went stale (a peer got a new
 * address, no DNS to follow it) still finds the mesh after a restart: they are added to the
 * configured peers for discovery only. Joining still takes the mesh's TLS handshake, so an address
 * here never lets anyone in by itself.
 *
 * <p>Text, one {@code address port} line per peer, newest first, at most {@link #MAX} lines, then one
 * {@code # seen address port EPOCH_SECONDS} line per peer (when it was last in a view, to the
 * {@link #REFRESH}; a comment to nodes that predate it, so they still read the file), closed by a
 * {@code sha256} line over the preceding bytes; replaced atomically, and only when the list or a time
 * changed. An address not in a view for {@link #FORGET} is forgotten: a host retired or given a new
 * address does not stay a hint (and a {@code DOWN} row in {@code kgctl explain}) for good. An address
 * without a time (a file from before) counts as seen when the file is read. A damaged file is ignored
 * with a warning (discovery then uses the configured peers only) and overwritten by the next view.
 * Thread-safe.
 */
public final class RememberedPeers {
  private static final Logger log = LoggerFactory.getLogger(RememberedPeers.class);
  /** Enough for every peer of a site's mesh; older addresses beyond it are forgotten first. */
  static final int MAX = 32;
  /** An address not in a view for this long is forgotten. */
  static final Duration FORGET = MeshConfig.PEERS_REMEMBERED_FOR;
  /** A time is written again once it is this old (so a view does not rewrite the file each time). */
  static final Duration REFRESH = Duration.ofDays(1);
  private static final String SEEN = "# seen ";
  private static final String HEADER = "# knowngood mesh peers v1: cluster addresses seen in views (discovery hints only)\n";
  private static final Pattern IPV4 = Pattern.compile("^\\d{1,3}(\\.\\d{1,3}){3}$");
  private static final Pattern IPV6 = Pattern.compile("^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9_.-]+)?$");

  private final Path file;
  private final InetSocketAddress self;
  private final Clock clock;
  private List<InetSocketAddress> remembered;
  /** When each remembered address was last in a view, epoch seconds. */
  private Map<InetSocketAddress, Long> seen;

  /** Reads {@code file} (missing: nothing remembered yet); {@code self} is never remembered. */
  RememberedPeers(Path file, InetSocketAddress self) {
    this(file, self, Clock.systemUTC());
  }

  RememberedPeers(Path file, InetSocketAddress self, Clock clock) {
    this.file = file;
    this.self = self;
    this.clock = clock;
    long now = clock.instant().getEpochSecond();
    Read r = readWithTimes(file);
    this.remembered = new ArrayList<>(r.addresses());
    this.seen = new HashMap<>();
    // an address without a time (a file from before) counts as seen now, and so does a time ahead of the clock
    remembered.forEach(a -> seen.put(a, Math.min(r.seen().getOrDefault(a, now), now)));
    this.remembered.remove(self);
    this.remembered.removeIf(a -> now - seen.get(a) >= FORGET.toSeconds());
    this.seen.keySet().retainAll(remembered);
  }

  /** What a file holds: its addresses, newest first, and when each with a time was last in a view (epoch seconds). */
  record Read(List<InetSocketAddress> addresses, Map<InetSocketAddress, Long> seen) {}

  /**
   * The addresses in {@code file}, newest first, each with when it was last in a view (empty for one from
   * a file written before times were kept); none if the file is missing or damaged, as discovery reads it.
   */
  public static Map<InetSocketAddress, Optional<Instant>> inFile(Path file) {
    Read r = readWithTimes(file);
    Map<InetSocketAddress, Optional<Instant>> out = new LinkedHashMap<>();
    r.addresses().forEach(a -> out.put(a, Optional.ofNullable(r.seen().get(a)).map(Instant::ofEpochSecond)));
    return out;
  }

  Path file() {
    return file;
  }

  /** What was remembered, newest first. */
  synchronized List<InetSocketAddress> addresses() {
    return List.copyOf(remembered);
  }

  /**
   * The peers of a view just installed: they go first, the addresses remembered before follow (up
   * to {@link #MAX} in all). Written only if that changes the list; a write failure is logged, not
   * thrown (this is a hint, the mesh works without it). Returns whether the file was rewritten.
   */
  synchronized boolean viewed(List<InetSocketAddress> peers) {
    long now = clock.instant().getEpochSecond();
    LinkedHashSet<InetSocketAddress> next = new LinkedHashSet<>();
    Map<InetSocketAddress, Long> times = new HashMap<>(seen);
    for (InetSocketAddress p : peers) {
      if (!p.equals(self) && p.getAddress() != null) {
        next.add(p);
        Long t = times.get(p);
        if (t == null || now - t >= REFRESH.toSeconds()) {
          times.put(p, now);
        }
      }
    }
    next.addAll(remembered);
    next.removeIf(a -> now - times.get(a) >= FORGET.toSeconds());
    List<InetSocketAddress> bounded = new ArrayList<>(next).subList(0, Math.min(MAX, next.size()));
    times.keySet().retainAll(bounded);
    if (bounded.equals(remembered) && times.equals(seen)) {
      return false;
    }
    try {
      write(bounded, times);
      remembered = new ArrayList<>(bounded);
      seen = times;
      return true;
    } catch (IOException e) {
      log.warn("cannot write the remembered mesh peers to {}: {}", file, e.toString());
      return false;
    }
  }

  private void write(List<InetSocketAddress> peers, Map<InetSocketAddress, Long> times) throws IOException {
    StringBuilder sb = new StringBuilder(HEADER);
    for (InetSocketAddress p : peers) {
      sb.append(p.getAddress().getHostAddress()).append(' ').append(p.getPort()).append('\n');
    }
    for (InetSocketAddress p : peers) {
      sb.append(SEEN).append(p.getAddress().getHostAddress()).append(' ').append(p.getPort()).append(' ')
          .append(times.get(p)).append('\n');
    }
    String body = sb.toString();
    AtomicFile.write(file, (body + "sha256 " + Sha256.hex(body.getBytes(StandardCharsets.UTF_8)) + "\n")
        .getBytes(StandardCharsets.UTF_8));
  }

  /** The addresses in {@code file}; empty (and a warning) if it is damaged in any way. */
  static List<InetSocketAddress> read(Path file) {
    return readWithTimes(file).addresses();
  }

  /** The addresses in {@code file} and the times it has for them; empty if it is damaged. */
  static Read readWithTimes(Path file) {
    Read none = new Read(List.of(), Map.of());
    String text;
    try {
      if (Files.size(file) > 64 * 1024) {
        log.warn("ignoring the remembered mesh peers in {}: larger than any this node writes", file);
        return none;
      }
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return none;
    } catch (IOException e) {
      log.warn("ignoring the remembered mesh peers in {}: {}", file, e.toString());
      return none;
    }
    int sumAt = text.lastIndexOf("sha256 ");
    if (sumAt < 0 || !text.endsWith("\n")
        || !text.substring(sumAt + 7, text.length() - 1).equals(Sha256.hex(text.substring(0, sumAt).getBytes(StandardCharsets.UTF_8)))) {
      log.warn("ignoring the remembered mesh peers in {}: damaged (checksum missing or wrong); discovery uses the configured peers", file);
      return none;
    }
    List<InetSocketAddress> out = new ArrayList<>();
    Map<InetSocketAddress, Long> times = new HashMap<>();
    for (String line : text.substring(0, sumAt).split("\n")) {
      if (line.startsWith(SEEN)) {
        String[] f = line.substring(SEEN.length()).split(" ");
        InetSocketAddress a = f.length == 3 ? parse(f[0] + " " + f[1]) : null;
        if (a != null && f[2].matches("\\d{1,12}")) {
          times.put(a, Long.parseLong(f[2]));
        }
        continue;
      }
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      InetSocketAddress a = parse(line);
      if (a == null) {
        log.warn("ignoring the remembered mesh peers in {}: unreadable line '{}'", file, line);
        return none;
      }
      if (out.size() < MAX && !out.contains(a)) {
        out.add(a);
      }
    }
    times.keySet().retainAll(out);
    return new Read(List.copyOf(out), Map.copyOf(times));
  }

  /** {@code address port} with an IP literal (never resolved by DNS), or null. */
  private static InetSocketAddress parse(String line) {
    String[] f = line.split(" ");
    if (f.length != 2 || !(IPV4.matcher(f[0]).matches() || IPV6.matcher(f[0]).matches())) {
      return null;
    }
    if (IPV4.matcher(f[0]).matches()) {
      for (String octet : f[0].split("\\.")) {
        if (Integer.parseInt(octet) > 255) {
          return null; // not a literal: InetAddress would try DNS
        }
      }
    }
    try {
      int port = Integer.parseInt(f[1]);
      if (port < 1 || port > 65534) {
        return null;
      }
      return new InetSocketAddress(InetAddress.getByName(f[0]), port); // a literal: no lookup
    } catch (NumberFormatException | IOException e) {
      return null;
    }
  }
}
