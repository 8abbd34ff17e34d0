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
