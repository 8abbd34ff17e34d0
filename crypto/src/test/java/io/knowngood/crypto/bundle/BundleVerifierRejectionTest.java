package io.knowngood.crypto.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;

/**
 * Every way a bundle can be refused, one fixture each (see {@link BadBundles}), each asserting the
 * exact {@link Rejection} record with its details, not just "rejected".
 */
class BundleVerifierRejectionTest {
    private static final KeyPair PUBLISHER = Ed25519Keys.generate();
    private static final KeyPair STRANGER = Ed25519Keys.generate();
    private static final String A_TXT_SHA = Sha256.hex("alpha\n".getBytes(StandardCharsets.UTF_8));

    private final BadBundles bad = new BadBundles(PUBLISHER, STRANGER);
    private final BundleVerifier verifier = verifierWith(Limits.defaults());

    private static BundleVerifier verifierWith(Limits limits) {
        return new BundleVerifier(TrustedKeys.of(List.of(PUBLISHER.getPublic())), limits);
    }

    private static VerifyResult rejected(Rejection r) {
        return new VerifyResult.Rejected(r);
    }

    /** Both entry points must agree on every fixture. */
    private VerifyResult verify(BundleVerifier v, byte[] archive) {
        VerifyResult fromBytes = v.verify(archive);
        VerifyResult fromStream = v.verify(new ByteArrayInputStream(archive));
        if (fromBytes instanceof VerifyResult.Rejected) {
            assertThat(fromStream).as("verify(InputStream) agrees with verify(byte[])").isEqualTo(fromBytes);
        }
        return fromBytes;
    }

    private VerifyResult verify(byte[] archive) {
        return verify(verifier, archive);
    }

    @Test
    void verify_validFixture_isVerified() {
        assertThat(verify(bad.valid().build()).isVerified()).isTrue();
    }

    // ---- JSON ----

    @Test
    void verify_manifestWithDuplicateKey_isDuplicateKey() {
        assertThat(verify(bad.manifestWithDuplicateKey())).isEqualTo(rejected(new Rejection.DuplicateKey("manifest.json", "schema")));
    }

    @Test
    void verify_signaturesWithDuplicateKey_isDuplicateKey() {
        assertThat(verify(bad.signaturesWithDuplicateKey())).isEqualTo(rejected(new Rejection.DuplicateKey("signatures.json", "keyid")));
    }

    @Test
    void verify_schema2_isUnknownSchema() {
        assertThat(verify(bad.manifestWithSchema2())).isEqualTo(rejected(new Rejection.UnknownSchema("2")));
    }

    @Test
    void verify_schemaAsString_isUnknownSchema() {
        assertThat(verify(bad.manifestWithSchemaAsString())).isEqualTo(rejected(new Rejection.UnknownSchema("\"1\"")));
    }

    @Test
    void verify_manifestWithoutSchema_isInvalidManifest() {
        assertThat(verify(bad.manifestWithoutSchema())).isEqualTo(rejected(new Rejection.InvalidManifest("schema", "missing")));
    }

    @Test
    void verify_manifestNotJson_isMalformedJson() {
        VerifyResult r = verify(bad.manifestNotJson());

        assertThat(r).isInstanceOfSatisfying(VerifyResult.Rejected.class, rej -> assertThat(rej.reason())
                .isInstanceOfSatisfying(Rejection.MalformedJson.class, m -> assertThat(m.file()).isEqualTo("manifest.json")));
    }

    @Test
    void verify_manifestWithUnknownField_isInvalidManifest() {
        assertThat(verify(bad.manifestWithUnknownField())).isEqualTo(rejected(new Rejection.InvalidManifest("signer", "unknown field")));
    }

    @Test
    void verify_upperCaseName_isBadName() {
        assertThat(verify(bad.manifestWithBadName("Desktop"))).isEqualTo(rejected(new Rejection.BadName("Desktop")));
    }

    @Test
    void verify_nameWithSlash_isBadName() {
        assertThat(verify(bad.manifestWithBadName("a/b"))).isEqualTo(rejected(new Rejection.BadName("a/b")));
    }

    @Test
    void verify_nameStartingWithDot_isBadName() {
        assertThat(verify(bad.manifestWithBadName(".hidden"))).isEqualTo(rejected(new Rejection.BadName(".hidden")));
    }

    @Test
    void verify_nameOf129Chars_isBadName() {
        String name = "a".repeat(129);
        assertThat(verify(bad.manifestWithBadName(name))).isEqualTo(rejected(new Rejection.BadName(name)));
    }

    @Test
    void verify_versionZero_isInvalidManifest() {
        assertThat(verify(bad.manifestWithVersionZero())).isEqualTo(rejected(
                new Rejection.InvalidManifest("version", "must be an integer from 1 to 2^63-1, found 0")));
    }

    @Test
    void verify_createdWithOffset_isInvalidManifest() {
        assertThat(verify(bad.manifestWithLocalTimeCreated())).isEqualTo(rejected(
                new Rejection.InvalidManifest("created", "missing or not an RFC 3339 UTC time")));
    }

    @Test
    void verify_pathListedTwice_isInvalidManifest() {
        assertThat(verify(bad.manifestListingAPathTwice())).isEqualTo(rejected(
                new Rejection.InvalidManifest("files[1].path", "duplicate path a.txt")));
    }

    @Test
    void verify_upperCaseHash_isInvalidManifest() {
        assertThat(verify(bad.manifestWithUpperCaseHash())).isEqualTo(rejected(
                new Rejection.InvalidManifest("files[0].sha256", "must be 64 lower-case hex characters")));
    }

    @Test
    void verify_retiredWithFiles_isInvalidManifest() {
        assertThat(verify(bad.retiredManifestWithFiles())).isEqualTo(rejected(
                new Rejection.InvalidManifest("retired", "a retired version must have no files")));
    }

    @Test
    void verify_labelNotAString_isInvalidManifest() {
        assertThat(verify(bad.manifestWithNonStringLabel())).isEqualTo(rejected(
                new Rejection.InvalidManifest("labels.tier", "must be a string")));
    }

    // ---- paths in the manifest ----

    @Test
    void verify_manifestPathWithDotDot_isBadPath() {
        assertThat(verify(bad.manifestWithPath("../etc/passwd"))).isEqualTo(rejected(new Rejection.BadPath("../etc/passwd", "contains ..")));
    }

    @Test
    void verify_manifestPathAbsolute_isBadPath() {
        assertThat(verify(bad.manifestWithPath("/etc/passwd"))).isEqualTo(rejected(new Rejection.BadPath("/etc/passwd", "absolute")));
    }

    @Test
    void verify_manifestPathWithBackslash_isBadPath() {
        assertThat(verify(bad.manifestWithPath("etc\\\\passwd"))).isEqualTo(rejected(new Rejection.BadPath("etc\\passwd", "contains a backslash")));
    }

    @Test
    void verify_manifestPathWithNul_isBadPath() {
        assertThat(verify(bad.manifestWithPath("a\\u0000.txt"))).isEqualTo(rejected(new Rejection.BadPath("a\u0000.txt", "contains NUL")));
    }

    @Test
    void verify_manifestPathWithDotSegment_isBadPath() {
        assertThat(verify(bad.manifestWithPath("./a.txt"))).isEqualTo(rejected(new Rejection.BadPath("./a.txt", "contains .")));
    }

    @Test
    void verify_manifestPathWithControlChar_isBadPath() {
        assertThat(verify(bad.manifestWithPath("a\\n.txt"))).isEqualTo(rejected(new Rejection.BadPath("a\n.txt", "contains a control character")));
    }

    @Test
    void verify_manifestPathEmpty_isBadPath() {
        assertThat(verify(bad.manifestWithPath(""))).isEqualTo(rejected(new Rejection.BadPath("", "empty path")));
    }

    // ---- paths in the tar ----

    @Test
    void verify_pathWithDotDot_isBadPath() {
        assertThat(verify(bad.fileEntryNamed("files/../a.txt"))).isEqualTo(rejected(new Rejection.BadPath("files/../a.txt", "contains ..")));
    }

    @Test
    void verify_absolutePath_isBadPath() {
        assertThat(verify(bad.fileEntryNamed("/files/a.txt"))).isEqualTo(rejected(new Rejection.BadPath("/files/a.txt", "absolute")));
    }

    @Test
    void verify_pathWithBackslash_isBadPath() {
        assertThat(verify(bad.fileEntryNamed("files\\a.txt"))).isEqualTo(rejected(new Rejection.BadPath("files\\a.txt", "contains a backslash")));
    }

    @Test
    void verify_paxPathWithDotDot_isBadPath() {
        assertThat(verify(bad.fileEntryWithPaxPath("files/x/../a.txt"))).isEqualTo(rejected(
                new Rejection.BadPath("files/x/../a.txt", "contains ..")));
    }

    @Test
    void verify_paxPathAbsolute_isBadPath() {
        assertThat(verify(bad.fileEntryWithPaxPath("/files/a.txt"))).isEqualTo(rejected(new Rejection.BadPath("/files/a.txt", "absolute")));
    }

    @Test
    void verify_paxPathWithNul_isBadPath() {
        assertThat(verify(bad.fileEntryWithPaxPath("files/a.txt\u0000/../../etc/passwd"))).isEqualTo(rejected(
                new Rejection.BadPath("files/a.txt\u0000/../../etc/passwd", "contains NUL")));
    }

    @Test
    void verify_gnuLongNameAbsolute_isBadPath() {
        assertThat(verify(bad.fileEntryWithGnuLongName("/files/a.txt"))).isEqualTo(rejected(new Rejection.BadPath("/files/a.txt", "absolute")));
    }

    @Test
    void verify_gnuLongNameWithDotDot_isBadPath() {
        assertThat(verify(bad.fileEntryWithGnuLongName("files/../../a.txt"))).isEqualTo(rejected(
                new Rejection.BadPath("files/../../a.txt", "contains ..")));
    }

    @Test
    void verify_gnuLongNameSameAsManifest_isVerified() {
        assertThat(verify(bad.fileEntryWithGnuLongName("files/a.txt")).isVerified()).isTrue();
    }

    @Test
    void verify_globalPaxPathAbsolute_isBadPath() {
        assertThat(verify(bad.globalPaxPath("/files/a.txt"))).isEqualTo(rejected(new Rejection.BadPath("/files/a.txt", "absolute")));
    }

    @Test
    void verify_paxPathSameAsManifest_isVerified() {
        assertThat(verify(bad.fileEntryWithPaxPath("files/a.txt")).isVerified()).isTrue();
        assertThat(verify(bad.validWithLongPath()).isVerified()).isTrue();
    }

    // ---- entry types ----

    @Test
    void verify_symlinkEntry_isForbiddenEntryType() {
        assertThat(verify(bad.fileEntryOfType(TarConstants.LF_SYMLINK))).isEqualTo(rejected(
                new Rejection.ForbiddenEntryType("files/a.txt", "symbolic link")));
    }

    @Test
    void verify_hardLinkEntry_isForbiddenEntryType() {
        assertThat(verify(bad.fileEntryOfType(TarConstants.LF_LINK))).isEqualTo(rejected(
                new Rejection.ForbiddenEntryType("files/a.txt", "hard link")));
    }

    @Test
    void verify_charDeviceEntry_isForbiddenEntryType() {
        assertThat(verify(bad.fileEntryOfType(TarConstants.LF_CHR))).isEqualTo(rejected(
                new Rejection.ForbiddenEntryType("files/a.txt", "character device")));
    }

    @Test
    void verify_blockDeviceEntry_isForbiddenEntryType() {
        assertThat(verify(bad.fileEntryOfType(TarConstants.LF_BLK))).isEqualTo(rejected(
                new Rejection.ForbiddenEntryType("files/a.txt", "block device")));
    }

    @Test
    void verify_fifoEntry_isForbiddenEntryType() {
        assertThat(verify(bad.fileEntryOfType(TarConstants.LF_FIFO))).isEqualTo(rejected(
                new Rejection.ForbiddenEntryType("files/a.txt", "FIFO")));
    }

    @Test
    void verify_directoryEntry_isForbiddenEntryType() {
        assertThat(verify(bad.fileEntryOfType(TarConstants.LF_DIR))).isEqualTo(rejected(
                new Rejection.ForbiddenEntryType("files/a.txt/", "directory")));
    }

    @Test
    void verify_contiguousFileEntry_isForbiddenEntryType() {
        assertThat(verify(bad.fileEntryOfType(TarConstants.LF_CONTIG))).isEqualTo(rejected(
                new Rejection.ForbiddenEntryType("files/a.txt", "entry of type '7'")));
    }

    @Test
    void verify_manifestAsSymlink_isForbiddenEntryType() {
        assertThat(verify(bad.manifestAsSymlink())).isEqualTo(rejected(
                new Rejection.ForbiddenEntryType("manifest.json", "symbolic link")));
    }

    // ---- extra, missing, out of order ----

    @Test
    void verify_extraEntryAtEnd_isUnexpectedEntry() {
        assertThat(verify(bad.extraEntryAtEnd())).isEqualTo(rejected(new Rejection.UnexpectedEntry(null, "files/zz-extra")));
    }

    @Test
    void verify_extraEntryBetweenFiles_isUnexpectedEntry() {
        assertThat(verify(bad.extraEntryBetweenFiles())).isEqualTo(rejected(
                new Rejection.UnexpectedEntry("files/etc/b.conf", "files/b-extra")));
    }

    @Test
    void verify_extraEntryOutsideFiles_isUnexpectedEntry() {
        assertThat(verify(bad.extraEntryOutsideFiles())).isEqualTo(rejected(new Rejection.UnexpectedEntry(null, "README")));
    }

    @Test
    void verify_missingFile_isMissingEntry() {
        assertThat(verify(bad.missingFile())).isEqualTo(rejected(new Rejection.MissingEntry("files/etc/b.conf")));
    }

    @Test
    void verify_missingSignatures_isMissingEntry() {
        assertThat(verify(bad.missingSignatures())).isEqualTo(rejected(new Rejection.MissingEntry("signatures.json")));
    }

    @Test
    void verify_emptyArchive_isMissingManifest() {
        assertThat(verify(bad.noEntriesAtAll())).isEqualTo(rejected(new Rejection.MissingEntry("manifest.json")));
    }

    @Test
    void verify_zeroBytes_isMissingManifest() {
        assertThat(verify(new byte[0])).isEqualTo(rejected(new Rejection.MissingEntry("manifest.json")));
    }

    @Test
    void verify_filesOutOfOrder_isUnexpectedEntry() {
        assertThat(verify(bad.filesOutOfOrder())).isEqualTo(rejected(new Rejection.UnexpectedEntry("files/a.txt", "files/etc/b.conf")));
    }

    @Test
    void verify_signaturesBeforeManifest_isUnexpectedEntry() {
        assertThat(verify(bad.signaturesBeforeManifest())).isEqualTo(rejected(new Rejection.UnexpectedEntry("manifest.json", "signatures.json")));
    }

    // ---- size and hash ----

    @Test
    void verify_fileLongerThanManifestSays_isSizeMismatch() {
        assertThat(verify(bad.fileLongerThanManifestSays())).isEqualTo(rejected(new Rejection.SizeMismatch("a.txt", 6, 7)));
    }

    @Test
    void verify_fileWithOtherContent_isHashMismatch() {
        String found = Sha256.hex("alphA\n".getBytes(StandardCharsets.UTF_8));
        assertThat(verify(bad.fileWithOtherContentOfSameSize())).isEqualTo(rejected(new Rejection.HashMismatch("a.txt", A_TXT_SHA, found)));
    }

    // ---- not a tar ----

    @Test
    void verify_truncatedInsideAFile_isMalformedArchive() {
        assertThat(verify(bad.truncatedInsideAFile())).isEqualTo(rejected(new Rejection.MalformedArchive("Truncated TAR archive")));
    }

    @Test
    void verify_garbageAfterEndOfArchive_isMalformedArchive() {
        assertThat(verify(bad.garbageAfterEndOfArchive())).isEqualTo(rejected(
                new Rejection.MalformedArchive("data after the end-of-archive marker")));
    }

    @Test
    void verify_headerChecksumBroken_isMalformedArchive() {
        VerifyResult r = verify(bad.headerChecksumBroken());

        assertThat(r).isInstanceOfSatisfying(VerifyResult.Rejected.class,
                rej -> assertThat(rej.reason()).isEqualTo(new Rejection.MalformedArchive("bad header checksum")));
    }

    // ---- limits ----

    @Test
    void verify_moreFilesThanLimit_isTooManyFiles() {
        BundleVerifier v = verifierWith(new Limits(1024, Limits.MIB, 3));

        assertThat(verify(v, bad.withFiles(4))).isEqualTo(rejected(new Rejection.TooManyFiles(3, 4)));
        assertThat(verify(v, bad.withFiles(3)).isVerified()).isTrue();
    }

    @Test
    void verify_fileLargerThanLimit_isTooLarge() {
        BundleVerifier v = verifierWith(new Limits(1024, Limits.MIB, 10));

        assertThat(verify(v, bad.withOneFileOf(1025))).isEqualTo(rejected(new Rejection.TooLarge("file big.bin", 1024, 1025)));
        assertThat(verify(v, bad.withOneFileOf(1024)).isVerified()).isTrue();
    }

    @Test
    void verify_filesAddingUpPastBundleLimit_isTooLarge() {
        byte[] archive = bad.withTwoFilesOf(1000);
        BundleVerifier v = verifierWith(new Limits(1000, archive.length, 10));
        BundleVerifier tighter = verifierWith(new Limits(1000, 1999, 10));

        assertThat(verify(v, archive).isVerified()).isTrue();
        assertThat(tighter.verify(archive)).isEqualTo(rejected(new Rejection.TooLarge("bundle", 1999, archive.length)));
        assertThat(tighter.verify(new ByteArrayInputStream(archive))).isEqualTo(rejected(new Rejection.TooLarge("bundle content", 1999, 2000)));
    }

    @Test
    void verify_archiveLargerThanBundleLimit_isTooLarge() {
        byte[] archive = bad.valid().build();
        BundleVerifier v = verifierWith(new Limits(1024, archive.length - 1, 10));

        assertThat(v.verify(archive)).isEqualTo(rejected(new Rejection.TooLarge("bundle", archive.length - 1, archive.length)));
        assertThat(v.verify(new ByteArrayInputStream(archive))).isEqualTo(rejected(new Rejection.TooLarge("bundle", archive.length - 1, -1)));
    }

    @Test
    void verify_manifestEntryLargerThanManifestCap_isTooLarge() {
        int declared = Limits.MAX_MANIFEST_BYTES + 1;
        byte[] archive = bad.valid().entries(list -> ArchiveBuilder.replace(list, "manifest.json",
                ArchiveBuilder.Entry.file("manifest.json", new byte[declared]))).build();
        byte[] headerOnly = Arrays.copyOf(archive, 512);

        assertThat(verify(headerOnly)).isEqualTo(rejected(new Rejection.TooLarge("manifest.json", Limits.MAX_MANIFEST_BYTES, declared)));
    }

    @Test
    void verify_moreSignaturesThanCap_isTooLarge() {
        assertThat(verify(bad.withSignatures(Limits.MAX_SIGNATURES + 1))).isEqualTo(rejected(
                new Rejection.TooLarge("signature list", Limits.MAX_SIGNATURES, Limits.MAX_SIGNATURES + 1)));
    }

    // ---- signatures ----

    @Test
    void verify_signedByUntrustedKey_isUntrustedKey() {
        assertThat(verify(bad.signedByStranger())).isEqualTo(rejected(new Rejection.UntrustedKey(List.of(ArchiveBuilder.keyId(STRANGER)))));
    }

    @Test
    void verify_noSignatures_isUntrustedKeyWithNoIds() {
        assertThat(verify(bad.unsigned())).isEqualTo(rejected(new Rejection.UntrustedKey(List.of())));
    }

    @Test
    void verify_signedByStrangerAndPublisher_isVerifiedBySignerOnly() {
        VerifyResult r = verify(bad.signedByStrangerAndPublisher());

        assertThat(r).isInstanceOfSatisfying(VerifyResult.Verified.class, v -> assertThat(v.bundle().signerKeyIds())
                .containsExactly(KeyId.of(PUBLISHER.getPublic())));
    }

    @Test
    void verify_sigNotBase64_isMalformedSignature() {
        assertThat(verify(bad.signatureWith("\"not base64!\""))).isEqualTo(rejected(new Rejection.MalformedSignature(0, "sig is not valid base64")));
    }

    @Test
    void verify_sigNotCanonicalBase64_isMalformedSignature() {
        // "AB==" decodes (one byte) but its canonical form is "AA=="
        assertThat(verify(bad.signatureWith("\"AB==\""))).isEqualTo(rejected(new Rejection.MalformedSignature(0, "sig is not canonical base64")));
    }

    @Test
    void verify_sigNotAString_isMalformedSignature() {
        assertThat(verify(bad.signatureWith("42"))).isEqualTo(rejected(new Rejection.MalformedSignature(0, "sig missing or not a string")));
    }

    @Test
    void verify_sigOf63Bytes_isMalformedSignature() {
        assertThat(verify(bad.signatureOfLength(63))).isEqualTo(rejected(
                new Rejection.MalformedSignature(0, "sig has 63 bytes, an Ed25519 signature has 64")));
    }

    @Test
    void verify_sigOf65Bytes_isMalformedSignature() {
        assertThat(verify(bad.signatureOfLength(65))).isEqualTo(rejected(
                new Rejection.MalformedSignature(0, "sig has 65 bytes, an Ed25519 signature has 64")));
    }

    @Test
    void verify_keyIdUpperCase_isMalformedSignature() {
        assertThat(verify(bad.signatureWithKeyId(ArchiveBuilder.keyId(PUBLISHER).toUpperCase(java.util.Locale.ROOT)))).isEqualTo(rejected(
                new Rejection.MalformedSignature(0, "keyid must be 64 lower-case hex characters")));
    }

    @Test
    void verify_signatureOverOtherBytes_isBadSignature() {
        assertThat(verify(bad.signatureOverOtherBytes())).isEqualTo(rejected(new Rejection.BadSignature(ArchiveBuilder.keyId(PUBLISHER))));
    }

    @Test
    void verify_zeroSignatureByTrustedKey_isBadSignature() {
        assertThat(verify(bad.signatureOfLength(64))).isEqualTo(rejected(new Rejection.BadSignature(ArchiveBuilder.keyId(PUBLISHER))));
    }

    @Test
    void verify_oneGoodOneBadSignatureByTrustedKey_isBadSignature() {
        assertThat(verify(bad.goodAndBadSignatureByTrustedKey())).isEqualTo(rejected(new Rejection.BadSignature(ArchiveBuilder.keyId(PUBLISHER))));
    }

    // ---- name and rollback ----

    @Test
    void verifyAs_otherName_isNameMismatch() {
        assertThat(verifier.verifyAs("other", bad.valid().build())).isEqualTo(rejected(new Rejection.NameMismatch("other", "desktop-base")));
    }

    @Test
    void rollbackFloor_sameVersion_isRollback() {
        VerifiedBundle b = ((VerifyResult.Verified) verify(bad.valid().build())).bundle();

        assertThat(RollbackFloor.check(b, OptionalLong.of(ArchiveBuilder.VERSION))).isEqualTo(rejected(
                new Rejection.Rollback("desktop-base", ArchiveBuilder.VERSION, ArchiveBuilder.VERSION)));
    }

    @Test
    void rollbackFloor_olderVersion_isRollback() {
        VerifiedBundle b = ((VerifyResult.Verified) verify(bad.valid().build())).bundle();

        assertThat(RollbackFloor.check(b, OptionalLong.of(10))).isEqualTo(rejected(new Rejection.Rollback("desktop-base", 10, 3)));
    }

    @Test
    void everyRejection_hasSnakeCaseCodeAndOneLineDetail() {
        List<byte[]> fixtures = List.of(bad.manifestWithDuplicateKey(), bad.manifestWithPath("a\\n.txt"), bad.fileEntryOfType(TarConstants.LF_FIFO),
                bad.missingFile(), bad.signedByStranger(), bad.headerChecksumBroken(), bad.fileEntryNamed("files/a\u0001"));
        for (byte[] f : fixtures) {
            Rejection r = ((VerifyResult.Rejected) verify(f)).reason();
            assertThat(r.code()).matches("[a-z]+(_[a-z]+)*");
            assertThat(r.detail()).doesNotContain("\n").isNotBlank();
        }
    }
}
