package io.knowngood.crypto.bundle;

import static io.knowngood.crypto.bundle.ArchiveBuilder.Entry;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * One fixture builder per way a bundle can be bad (sigstore-java keeps one fixture folder per
 * failure; here each is a method). Each starts from {@link ArchiveBuilder#valid} and breaks exactly
 * one thing, so the rejection it earns is the one its name says.
 */
final class BadBundles {
    final KeyPair publisher;
    final KeyPair stranger;

    BadBundles(KeyPair publisher, KeyPair stranger) {
        this.publisher = publisher;
        this.stranger = stranger;
    }

    ArchiveBuilder valid() {
        return ArchiveBuilder.valid(publisher);
    }

    // ---- manifest.json ----

    byte[] manifestWithDuplicateKey() {
        return valid().manifestReplacing("\"schema\":1", "\"schema\":1,\"schema\":1").build();
    }

    byte[] signaturesWithDuplicateKey() {
        String sig = ArchiveBuilder.signatureJson(publisher, Ed25519Keys.sign(publisher.getPrivate(), valid().manifestBytes()));
        return valid().signatures("[" + sig.replace("{\"keyid\"", "{\"keyid\":\"" + "0".repeat(64) + "\",\"keyid\"") + "]").build();
    }

    byte[] manifestWithSchema2() {
        return valid().manifestReplacing("\"schema\":1", "\"schema\":2").build();
    }

    byte[] manifestWithSchemaAsString() {
        return valid().manifestReplacing("\"schema\":1", "\"schema\":\"1\"").build();
    }

    byte[] manifestWithoutSchema() {
        return valid().manifestReplacing("\"schema\":1,", "").build();
    }

    byte[] manifestNotJson() {
        return valid().manifest("{\"schema\":1,").build();
    }

    byte[] manifestWithUnknownField() {
        return valid().manifestReplacing("\"schema\":1", "\"schema\":1,\"signer\":\"me\"").build();
    }

    byte[] manifestWithBadName(String name) {
        return valid().manifestReplacing("\"name\":\"desktop-base\"", "\"name\":\"" + name + "\"").build();
    }

    byte[] manifestWithVersionZero() {
        return valid().manifestReplacing("\"version\":3", "\"version\":0").build();
    }

    byte[] manifestWithLocalTimeCreated() {
        return valid().manifestReplacing("2026-11-25T10:00:00Z", "2026-11-25T10:00:00+01:00").build();
    }

    byte[] manifestWithPath(String path) {
        return valid().manifestReplacing("\"path\":\"a.txt\"", "\"path\":\"" + path + "\"").build();
    }

    byte[] manifestListingAPathTwice() {
        return valid().manifestReplacing("\"path\":\"etc/b.conf\"", "\"path\":\"a.txt\"").build();
    }

    byte[] manifestWithUpperCaseHash() {
        String hash = Sha256.hex("alpha\n".getBytes(StandardCharsets.UTF_8));
        return valid().manifestReplacing(hash, hash.toUpperCase(java.util.Locale.ROOT)).build();
    }

    byte[] retiredManifestWithFiles() {
        return valid().manifestReplacing("\"schema\":1", "\"retired\":true,\"schema\":1").build();
    }

    byte[] manifestWithNonStringLabel() {
        return valid().manifestReplacing("\"name\"", "\"labels\":{\"tier\":1},\"name\"").build();
    }

    // ---- tar entry names ----

    /** {@code files/a.txt} is stored under {@code name} instead. */
    byte[] fileEntryNamed(String name) {
        return valid().entries(list -> ArchiveBuilder.replace(list, "files/a.txt", Entry.file(name, "alpha\n"))).build();
    }

    /** {@code files/a.txt} carries a PAX {@code path} record; the ustar name field stays harmless. */
    byte[] fileEntryWithPaxPath(String paxPath) {
        return valid().entries(list -> ArchiveBuilder.replace(list, "files/a.txt",
                Entry.file("files/a.txt", "alpha\n").withPax("path", paxPath))).build();
    }

    /** A GNU long-name entry ('L') in front of {@code files/a.txt} stores the name {@code longName}. */
    byte[] fileEntryWithGnuLongName(String longName) {
        byte[] data = (longName + "\0").getBytes(StandardCharsets.UTF_8);
        return valid().entries(list -> list.add(ArchiveBuilder.indexOf(list, "files/a.txt"),
                new Entry("././@LongLink", TarConstants.LF_GNUTYPE_LONGNAME, data, null, java.util.Map.of()))).build();
    }

    /** A global PAX header ('g') before the files sets {@code path} for every entry after it. */
    byte[] globalPaxPath(String path) {
        // commons-compress will not write a global header with records, so write a local one and retype it
        return ArchiveBuilder.retypeFirst(fileEntryWithPaxPath(path), TarConstants.LF_PAX_EXTENDED_HEADER_LC,
                TarConstants.LF_PAX_GLOBAL_EXTENDED_HEADER);
    }

    /** A long path (over 100 bytes) is stored through a PAX path record, as the packer does. */
    byte[] validWithLongPath() {
        return valid().file("deep/" + "d".repeat(120) + "/x.conf", "deep=1\n").build();
    }

    // ---- entry types ----

    byte[] fileEntryOfType(byte type) {
        Entry e = type == TarConstants.LF_LINK || type == TarConstants.LF_SYMLINK
                ? Entry.link("files/a.txt", type, "/etc/shadow")
                : Entry.special(type == TarConstants.LF_DIR ? "files/a.txt/" : "files/a.txt", type);
        return valid().entries(list -> ArchiveBuilder.replace(list, "files/a.txt", e)).build();
    }

    byte[] manifestAsSymlink() {
        return valid().entries(list -> ArchiveBuilder.replace(list, "manifest.json",
                Entry.link("manifest.json", TarConstants.LF_SYMLINK, "/etc/passwd"))).build();
    }

    // ---- entries: extra, missing, order ----

    byte[] extraEntryAtEnd() {
        return valid().entries(list -> list.add(Entry.file("files/zz-extra", "surprise"))).build();
    }

    byte[] extraEntryBetweenFiles() {
        return valid().entries(list -> list.add(3, Entry.file("files/b-extra", "surprise"))).build();
    }

    byte[] extraEntryOutsideFiles() {
        return valid().entries(list -> list.add(Entry.file("README", "surprise"))).build();
    }

    byte[] missingFile() {
        return valid().entries(list -> list.remove(ArchiveBuilder.indexOf(list, "files/etc/b.conf"))).build();
    }

    byte[] missingSignatures() {
        return valid().entries(list -> list.subList(1, list.size()).clear()).build();
    }

    byte[] noEntriesAtAll() {
        return valid().entries(list -> list.clear()).build();
    }

    byte[] filesOutOfOrder() {
        return valid().entries(list -> Collections.swap(list, 2, 3)).build();
    }

    byte[] signaturesBeforeManifest() {
        return valid().entries(list -> Collections.swap(list, 0, 1)).build();
    }

    // ---- content ----

    byte[] fileLongerThanManifestSays() {
        return valid().entries(list -> ArchiveBuilder.replace(list, "files/a.txt", Entry.file("files/a.txt", "alpha!\n"))).build();
    }

    byte[] fileWithOtherContentOfSameSize() {
        return valid().entries(list -> ArchiveBuilder.replace(list, "files/a.txt", Entry.file("files/a.txt", "alphA\n"))).build();
    }

    byte[] truncatedInsideAFile() {
        byte[] ok = valid().file("a.txt", new byte[4096]).build();
        return Arrays.copyOf(ok, 512 * 5);
    }

    byte[] garbageAfterEndOfArchive() {
        byte[] ok = valid().build();
        byte[] longer = Arrays.copyOf(ok, ok.length + 512);
        longer[ok.length + 7] = 'x';
        return longer;
    }

    byte[] headerChecksumBroken() {
        byte[] ok = valid().build();
        ok[0] ^= 0x20; // "manifest.json" -> "Manifest.json" without fixing the checksum
        return ok;
    }

    // ---- limits ----

    byte[] withFiles(int count) {
        ArchiveBuilder b = ArchiveBuilder.empty(publisher);
        for (int i = 0; i < count; i++) {
            b.file(String.format("f%05d", i), "x");
        }
        return b.build();
    }

    byte[] withOneFileOf(int size) {
        return ArchiveBuilder.empty(publisher).file("big.bin", new byte[size]).build();
    }

    byte[] withTwoFilesOf(int size) {
        return ArchiveBuilder.empty(publisher).file("one.bin", new byte[size]).file("two.bin", new byte[size]).build();
    }

    byte[] withSignatures(int count) {
        String one = ArchiveBuilder.signatureJson(publisher, Ed25519Keys.sign(publisher.getPrivate(), valid().manifestBytes()));
        return valid().signatures("[" + String.join(",", Collections.nCopies(count, one)) + "]").build();
    }

    // ---- signatures ----

    byte[] signedByStranger() {
        return valid().signedBy(stranger).build();
    }

    byte[] unsigned() {
        return valid().signatures("[]").build();
    }

    byte[] signatureWith(String sigField) {
        return valid().signatures("[{\"keyid\":\"" + ArchiveBuilder.keyId(publisher) + "\",\"sig\":" + sigField + "}]").build();
    }

    byte[] signatureOfLength(int bytes) {
        return signatureWith("\"" + Base64.getEncoder().encodeToString(new byte[bytes]) + "\"");
    }

    byte[] signatureWithKeyId(String keyId) {
        String sig = Base64.getEncoder().encodeToString(Ed25519Keys.sign(publisher.getPrivate(), valid().manifestBytes()));
        return valid().signatures("[{\"keyid\":\"" + keyId + "\",\"sig\":\"" + sig + "\"}]").build();
    }

    byte[] signatureOverOtherBytes() {
        byte[] other = valid().manifestReplacing("\"version\":3", "\"version\":4").manifestBytes();
        return valid().signatures("[" + ArchiveBuilder.signatureJson(publisher, Ed25519Keys.sign(publisher.getPrivate(), other)) + "]").build();
    }

    /** A good signature by the publisher and a bad one by the publisher too. */
    byte[] goodAndBadSignatureByTrustedKey() {
        byte[] m = valid().manifestBytes();
        byte[] bad = Ed25519Keys.sign(publisher.getPrivate(), m);
        bad[10] ^= 1;
        return valid().signatures("[" + ArchiveBuilder.signatureJson(publisher, Ed25519Keys.sign(publisher.getPrivate(), m))
                + "," + ArchiveBuilder.signatureJson(publisher, bad) + "]").build();
    }

    byte[] signedByStrangerAndPublisher() {
        return valid().signedBy(stranger, publisher).build();
    }
}
