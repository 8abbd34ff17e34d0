package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RememberedPeersTest {
  @TempDir
  Path dir;

  /** The tests of times: day 0, and this node's file and address. */
  private final MutableClock clock = new MutableClock(java.time.Instant.parse("2026-12-01T00:00:00Z"));

  private RememberedPeers timed() throws Exception {
    return new RememberedPeers(dir.resolve("mesh-peers"), at("10.0.0.1", 7800), clock);
  }

  private static InetSocketAddress at(String ip, int port) throws Exception {
    return new InetSocketAddress(InetAddress.getByName(ip), port);
  }

  @Test
  void viewedPeers_areWrittenNewestFirst_withoutSelf_andReadBackAfterARestart() throws Exception {
    Path file = dir.resolve("mesh-peers");
    InetSocketAddress self = at("10.0.0.1", 7800);
    RememberedPeers peers = new RememberedPeers(file, self);

    assertThat(peers.viewed(List.of(self, at("10.0.0.2", 7800), at("fd00::3", 7800)))).isTrue();
    assertThat(peers.viewed(List.of(self, at("10.0.0.4", 7800)))).isTrue();

    List<InetSocketAddress> expected = List.of(at("10.0.0.4", 7800), at("10.0.0.2", 7800), at("fd00::3", 7800));
    assertThat(peers.addresses()).isEqualTo(expected);
    assertThat(new RememberedPeers(file, self).addresses()).isEqualTo(expected);
  }

  @Test
  void anUnchangedList_isNotRewritten() throws Exception {
    Path file = dir.resolve("mesh-peers");
    RememberedPeers peers = new RememberedPeers(file, at("10.0.0.1", 7800));
    peers.viewed(List.of(at("10.0.0.2", 7800), at("10.0.0.3", 7800)));
    FileTime written = FileTime.fromMillis(1_000_000L);
    Files.setLastModifiedTime(file, written);

    assertThat(peers.viewed(List.of(at("10.0.0.2", 7800)))).isFalse(); // already first: same list
    assertThat(Files.getLastModifiedTime(file)).isEqualTo(written);
  }

  @Test
  void anAddressNotInAViewFor30Days_isForgotten_atTheNextViewAndAtARestart() throws Exception {
    InetSocketAddress self = at("10.0.0.1", 7800);
    RememberedPeers peers = timed();
    peers.viewed(List.of(self, at("10.0.0.2", 7800), at("10.0.0.9", 7800))); // 10.0.0.9: a host retired after this
    for (int day = 1; day < 30; day++) {
      clock.advance(java.time.Duration.ofDays(1));
      peers.viewed(List.of(self, at("10.0.0.2", 7800)));
    }
    assertThat(peers.addresses()).containsExactly(at("10.0.0.2", 7800), at("10.0.0.9", 7800));
    assertThat(timed().addresses()).as("read back on day 29")
        .containsExactly(at("10.0.0.2", 7800), at("10.0.0.9", 7800));

    clock.advance(java.time.Duration.ofDays(1));
    assertThat(timed().addresses()).as("a restart on day 30").containsExactly(at("10.0.0.2", 7800));
    assertThat(peers.viewed(List.of(self, at("10.0.0.2", 7800)))).isTrue();
    assertThat(peers.addresses()).containsExactly(at("10.0.0.2", 7800));
    assertThat(RememberedPeers.read(dir.resolve("mesh-peers"))).containsExactly(at("10.0.0.2", 7800));
  }

  @Test
  void theTimes_areRewrittenOncePerDay_asCommentsThatOlderNodesSkip() throws Exception {
    RememberedPeers peers = timed();
    assertThat(peers.viewed(List.of(at("10.0.0.2", 7800)))).isTrue();
    clock.advance(java.time.Duration.ofHours(23));
    assertThat(peers.viewed(List.of(at("10.0.0.2", 7800)))).as("within a day").isFalse();
    clock.advance(java.time.Duration.ofHours(1));
    assertThat(peers.viewed(List.of(at("10.0.0.2", 7800)))).as("a day on").isTrue();
    String text = Files.readString(dir.resolve("mesh-peers"), StandardCharsets.UTF_8);
    assertThat(text).contains("\n10.0.0.2 7800\n# seen 10.0.0.2 7800 " + clock.instant().getEpochSecond() + "\n");
    // what a node from before reads: every line that is not a comment or the checksum is "address port"
    assertThat(text.lines().filter(l -> !l.startsWith("#") && !l.startsWith("sha256 "))).containsExactly("10.0.0.2 7800");
  }

  @Test
  void aFileWithoutTimes_fromBefore_isRead_itsAddressesSeenWhenRead() throws Exception {
    Path file = dir.resolve("mesh-peers");
    String body = "# knowngood mesh peers v1: cluster addresses seen in views (discovery hints only)\n10.0.0.2 7800\n";
    Files.writeString(file, body + "sha256 " + io.knowngood.crypto.bundle.Sha256.hex(body.getBytes(StandardCharsets.UTF_8)) + "\n");
    RememberedPeers peers = timed();
    assertThat(peers.addresses()).containsExactly(at("10.0.0.2", 7800));
    clock.advance(java.time.Duration.ofDays(29));
    assertThat(peers.viewed(List.of(at("10.0.0.3", 7800)))).isTrue();
    assertThat(peers.addresses()).containsExactly(at("10.0.0.3", 7800), at("10.0.0.2", 7800));
    clock.advance(java.time.Duration.ofDays(1));
    peers.viewed(List.of(at("10.0.0.3", 7800)));
    assertThat(peers.addresses()).containsExactly(at("10.0.0.3", 7800));
  }

  @Test
  void theList_isBounded_forgettingTheOldestFirst() throws Exception {
    RememberedPeers peers = new RememberedPeers(dir.resolve("mesh-peers"), at("10.0.0.1", 7800));
    for (int i = 0; i < RememberedPeers.MAX + 10; i++) {
      peers.viewed(List.of(at("10.0.1." + i, 7800)));
    }
    List<InetSocketAddress> kept = RememberedPeers.read(dir.resolve("mesh-peers"));
    assertThat(kept).hasSize(RememberedPeers.MAX);
    assertThat(kept.get(0)).isEqualTo(at("10.0.1." + (RememberedPeers.MAX + 9), 7800));
    assertThat(kept).doesNotContain(at("10.0.1.0", 7800));
  }

  @Test
  void aDamagedFile_isIgnored_andReplacedByTheNextView() throws Exception {
    Path file = dir.resolve("mesh-peers");
    new RememberedPeers(file, at("10.0.0.1", 7800)).viewed(List.of(at("10.0.0.2", 7800)));
    String good = Files.readString(file);
    List<String> damaged = new ArrayList<>(List.of(
        good.replace("10.0.0.2", "10.0.0.9"),                  // checksum no longer matches
        good.substring(0, good.length() / 2),                  // cut short
        "garbage\n",
        ""));
    for (String text : damaged) {
      Files.writeString(file, text, StandardCharsets.UTF_8);
      assertThat(RememberedPeers.read(file)).as(text).isEmpty();
    }
    RememberedPeers peers = new RememberedPeers(file, at("10.0.0.1", 7800));
    assertThat(peers.addresses()).isEmpty();
    assertThat(peers.viewed(List.of(at("10.0.0.3", 7800)))).isTrue();
    assertThat(RememberedPeers.read(file)).containsExactly(at("10.0.0.3", 7800));
  }

  @Test
  void aHostName_orAnOutOfRangeOctet_isNeverResolved_theFileIsIgnored() throws Exception {
    Path file = dir.resolve("mesh-peers");
    for (String line : List.of("peer.example 7800", "300.1.1.1 7800", "10.0.0.2 99999", "10.0.0.2")) {
      String body = "# knowngood mesh peers v1\n" + line + "\n";
      Files.writeString(file, body + "sha256 " + io.knowngood.crypto.bundle.Sha256.hex(body.getBytes(StandardCharsets.UTF_8)) + "\n");
      assertThat(RememberedPeers.read(file)).as(line).isEmpty();
    }
  }
}
