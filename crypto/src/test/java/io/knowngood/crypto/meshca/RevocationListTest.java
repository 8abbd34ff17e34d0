package io.knowngood.crypto.meshca;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RevocationListTest {
  private static final Clock T1 = Clock.fixed(Instant.parse("2026-12-06T10:00:00Z"), ZoneOffset.UTC);
  private static final Clock T2 = Clock.fixed(Instant.parse("2026-12-06T11:00:00Z"), ZoneOffset.UTC);

  @TempDir Path tmp;

  @Test
  void revokingANodeById_writesAListThisCaSigned_thatNamesItsCertificateOnly() throws Exception {
    Path caDir = tmp.resolve("ca");
    MeshCa ca = MeshCa.init(caDir);
    NodeCredentials n1 = MeshCa.issue(caDir, "n1", tmp.resolve("n1"));
    NodeCredentials n2 = MeshCa.issue(caDir, "n2", tmp.resolve("n2"));
    assertThat(caDir.resolve(MeshCa.ISSUED_DIR).resolve(RevocationList.hex(n2.certificate().getSerialNumber()) + ".crt")).isRegularFile();

    MeshCa.Revoked r = (MeshCa.Revoked) MeshCa.revoke(caDir, Optional.of("n2"), List.of(), T1);

    assertThat(r.file()).isEqualTo(caDir.resolve(RevocationList.FILE));
    assertThat(r.added()).extracting(MeshCa.Issued::serial).containsExactly(n2.certificate().getSerialNumber());
    assertThat(r.added().get(0).nodeId()).contains("n2");
    assertThat(r.already()).isEmpty();
    RevocationList list = ((RevocationList.Valid) RevocationList.read(r.file(), ca.certificate())).list();
    assertThat(list.number()).isEqualTo(BigInteger.ONE);
    assertThat(list.thisUpdate()).isEqualTo(T1.instant());
    assertThat(list.revokedAt(n2.certificate())).contains(T1.instant());
    assertThat(list.revokedAt(n1.certificate())).isEmpty();
    assertThat(list.size()).isEqualTo(1);
  }

  @Test
  void aSecondRevocation_keepsTheFirstEntry_andRaisesTheNumber_andRevokingAgainWritesNothing() throws Exception {
    Path caDir = tmp.resolve("ca");
    MeshCa ca = MeshCa.init(caDir);
    NodeCredentials n1 = MeshCa.issue(caDir, "n1", tmp.resolve("n1"));
    NodeCredentials n2 = MeshCa.issue(caDir, "n2", tmp.resolve("n2"));
    MeshCa.revoke(caDir, Optional.of("n2"), List.of(), T1);
    byte[] first = Files.readAllBytes(caDir.resolve(RevocationList.FILE));

    MeshCa.Revoked again = (MeshCa.Revoked) MeshCa.revoke(caDir, Optional.of("n2"), List.of(), T2);
    assertThat(again.added()).isEmpty();
    assertThat(again.already()).extracting(MeshCa.Issued::serial).containsExactly(n2.certificate().getSerialNumber());
    assertThat(Files.readAllBytes(caDir.resolve(RevocationList.FILE))).isEqualTo(first);

    MeshCa.Revoked second = (MeshCa.Revoked) MeshCa.revoke(caDir, Optional.of("n1"), List.of(), T2);
    RevocationList list = ((RevocationList.Valid) RevocationList.read(second.file(), ca.certificate())).list();
    assertThat(list.number()).isEqualTo(BigInteger.TWO);
    assertThat(list.revokedAt(n2.certificate())).contains(T1.instant());
    assertThat(list.revokedAt(n1.certificate())).contains(T2.instant());
  }

  @Test
  void aNodeIdNeverIssued_isNoSuchCertificate_andNothingIsWritten() throws Exception {
    Path caDir = tmp.resolve("ca");
    MeshCa.init(caDir);
    MeshCa.issue(caDir, "n1", tmp.resolve("n1"));

    assertThat(MeshCa.revoke(caDir, Optional.of("n9"), List.of(), T1)).isInstanceOf(MeshCa.NoSuchCertificate.class);
    assertThat(caDir.resolve(RevocationList.FILE)).doesNotExist();
  }

  @Test
  void aSerialNotKept_isRevokedWithoutANodeId() throws Exception {
    Path caDir = tmp.resolve("ca");
    MeshCa ca = MeshCa.init(caDir);
    NodeCredentials old = ca.issue("older-host"); // issued in memory: not kept under issued/

    MeshCa.Revoked r = (MeshCa.Revoked) MeshCa.revoke(caDir, Optional.empty(), List.of(old.certificate().getSerialNumber()), T1);

    assertThat(r.added()).singleElement().satisfies(i -> assertThat(i.nodeId()).isEmpty());
    assertThat(r.list().revokedAt(old.certificate())).isPresent();
  }

  @Test
  void anUnusableListInTheCaDirectory_isReported_andLeftAsItIs() throws Exception {
    Path caDir = tmp.resolve("ca");
    MeshCa.init(caDir);
    MeshCa.issue(caDir, "n1", tmp.resolve("n1"));
    Files.writeString(caDir.resolve(RevocationList.FILE), "not a list\n");

    assertThat(MeshCa.revoke(caDir, Optional.of("n1"), List.of(), T1)).isInstanceOf(MeshCa.UnusableList.class);
    assertThat(Files.readString(caDir.resolve(RevocationList.FILE))).isEqualTo("not a list\n");
  }

  @Test
  void aListFromAnotherCa_aTamperedList_andNoList_areToldApart() throws Exception {
    MeshCa ours = MeshCa.generate(T1);
    MeshCa theirs = MeshCa.generate(T1);
    NodeCredentials n1 = ours.issue("n1");
    RevocationList mine = ours.revocationList(null, List.of(n1.certificate().getSerialNumber()));
    RevocationList foreign = theirs.revocationList(null, List.of(n1.certificate().getSerialNumber()));

    assertThat(RevocationList.parse(mine.pem().getBytes(StandardCharsets.US_ASCII), ours.certificate()))
        .isInstanceOf(RevocationList.Valid.class);
    assertThat(RevocationList.parse(foreign.pem().getBytes(StandardCharsets.US_ASCII), ours.certificate()))
        .isInstanceOfSatisfying(RevocationList.Invalid.class, i -> assertThat(i.reason()).contains("not by this mesh's CA"));
    byte[] der = mine.crl().getEncoded();
    der[der.length - 5] ^= 0x01; // inside the signature
    assertThat(RevocationList.parse(der, ours.certificate()))
        .isInstanceOfSatisfying(RevocationList.Invalid.class, i -> assertThat(i.reason()).containsAnyOf("signature", "not a certificate revocation list"));
    assertThat(RevocationList.parse("garbage".getBytes(StandardCharsets.US_ASCII), ours.certificate()))
        .isInstanceOf(RevocationList.Invalid.class);
    assertThat(RevocationList.read(tmp.resolve("none.pem"), ours.certificate())).isInstanceOf(RevocationList.Absent.class);
    Path big = tmp.resolve("big.pem");
    Files.write(big, new byte[RevocationList.MAX_BYTES + 1]);
    assertThat(RevocationList.read(big, ours.certificate()))
        .isInstanceOfSatisfying(RevocationList.Invalid.class, i -> assertThat(i.reason()).contains("over the"));
    // the same serial under another CA's certificate is not named
    assertThat(mine.revokedAt(theirs.issue("n1").certificate())).isEmpty();
  }

  /** The list is a standard CRL: OpenSSL verifies it against the CA and reads its entries and number. */
  @Test
  void openssl_verifiesTheListAgainstTheCa_andReadsItsEntries() throws Exception {
    Path caDir = tmp.resolve("ca");
    MeshCa.init(caDir);
    NodeCredentials n2 = MeshCa.issue(caDir, "n2", tmp.resolve("n2"));
    MeshCa.revoke(caDir, Optional.of("n2"), List.of(), Clock.systemUTC());

    Process p = new ProcessBuilder("openssl", "crl", "-in", caDir.resolve(RevocationList.FILE).toString(),
        "-CAfile", caDir.resolve(MeshCa.CA_CERT).toString(), "-noout", "-text").redirectErrorStream(true).start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("verify OK").contains("X509v3 CRL Number").containsIgnoringCase(
        n2.certificate().getSerialNumber().toString(16).toUpperCase());
  }
}
