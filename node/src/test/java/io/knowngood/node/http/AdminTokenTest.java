package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way a token file can be wrong gives one line naming the file and the cause, and how to make a good one. */
class AdminTokenTest {

    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("admin.token");
    }

    private String recipe() {
        return ". Make one (one line, at least 16 characters, owner-only, the same file on every node): "
                + "umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=\\n' > " + file();
    }

    private static List<AdminToken.Grant> bare(String token) {
        return List.of(new AdminToken.Grant(AdminToken.BARE_NAME, EnumSet.allOf(AdminToken.Scope.class), token));
    }

    private Path write(String content, String mode) throws IOException {
        Files.writeString(file(), content);
        Files.setPosixFilePermissions(file(), PosixFilePermissions.fromString(mode));
        return file();
    }

    @Test
    void missing_saysHowToMakeOne() {
        assertThat(AdminToken.read(file())).isEqualTo(new AdminToken.Unusable(
                "admin token file " + file() + " does not exist" + recipe()));
    }

    @Test
    void short_saysItsLengthAndHowToMakeOne() throws Exception {
        assertThat(AdminToken.read(write("s3cret\n", "rw-------"))).isEqualTo(new AdminToken.Unusable(
                "admin token in " + file() + " is 6 characters long; it needs at least 16" + recipe()));
    }

    @Test
    void empty_isTooShort() throws Exception {
        assertThat(AdminToken.read(write("\n", "rw-------"))).isEqualTo(new AdminToken.Unusable(
                "admin token in " + file() + " is 0 characters long; it needs at least 16" + recipe()));
    }

    @Test
    void twoBareLines_isRefused_sayingWhatALineOfManyHolds() throws Exception {
        assertThat(AdminToken.read(write("first-token-0123456789\nsecond-token-0123456789\n", "rw-------"))).isEqualTo(
                new AdminToken.Unusable("admin token file " + file() + " line 1: expected NAME SCOPES TOKEN (e.g. \"ops publish <token>\"), "
                        + "found 1 field (a bare token is allowed only as the file's one line)" + recipe()));
    }

    @Test
    void spaceInside_isRefused() throws Exception {
        assertThat(AdminToken.read(write("my token is long enough\n", "rw-------"))).isEqualTo(new AdminToken.Unusable(
                "admin token file " + file() + " line 1: expected NAME SCOPES TOKEN (e.g. \"ops publish <token>\"), found 5 fields "
                        + "(a bare token is allowed only as the file's one line)" + recipe()));
    }

    @Test
    void namedTokens_withScopes_commentsAndBlankLines() throws Exception {
        AdminToken.Result r = AdminToken.read(write("# who may do what\n\nops   publish   ops-token-0123456789\n"
                + "grafana\tread\tgrafana-token-012345\nci read,publish ci-token-0123456789ab\n", "rw-------"));

        assertThat(r).isInstanceOfSatisfying(AdminToken.Usable.class, u -> {
            assertThat(u.grants()).extracting(AdminToken.Grant::name).containsExactly("ops", "grafana", "ci");
            assertThat(u.grants().get(0).may(AdminToken.Scope.PUBLISH)).isTrue();
            assertThat(u.grants().get(0).may(AdminToken.Scope.READ)).as("publish includes read").isTrue();
            assertThat(u.grants().get(1).may(AdminToken.Scope.PUBLISH)).isFalse();
            assertThat(u.grants().get(1).may(AdminToken.Scope.READ)).isTrue();
            assertThat(u.grants().get(2).scopes()).containsExactlyInAnyOrder(AdminToken.Scope.READ, AdminToken.Scope.PUBLISH);
            assertThat(u.grants().get(1).toString()).doesNotContain("grafana-token");
        });
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
            "Ops publish ops-token-0123456789|line 1: token name \"Ops\" does not match ^[a-z0-9][a-z0-9._-]{0,63}$",
            "ops write ops-token-0123456789|line 1: unknown scope \"write\" (scopes: read, publish)",
            "ops read ops-token-0123456789 extra|line 1: expected NAME SCOPES TOKEN (e.g. \"ops publish <token>\"), found 4 fields (a bare token is allowed only as the file's one line)",
            "ops read,,publish ops-token-0123456789|line 1: unknown scope \"\" (scopes: read, publish)",
            "ops read short|line 1: the token is 5 characters long; it needs at least 16",
    })
    void badNamedLine_isRefusedWithItsLineNumber(String line, String why) throws Exception {
        assertThat(AdminToken.read(write(line + "\n", "rw-------"))).isEqualTo(
                new AdminToken.Unusable("admin token file " + file() + " " + why + recipe()));
    }

    @Test
    void sameNameOrSameTokenTwice_isRefused() throws Exception {
        assertThat(AdminToken.read(write("a read token-aaaaaaaaaaaaaa\na publish token-bbbbbbbbbbbbbb\n", "rw-------"))).isEqualTo(
                new AdminToken.Unusable("admin token file " + file() + " line 2: token name a is given twice" + recipe()));
        assertThat(AdminToken.read(write("a read token-aaaaaaaaaaaaaa\n# b\nb publish token-aaaaaaaaaaaaaa\n", "rw-------"))).isEqualTo(
                new AdminToken.Unusable("admin token file " + file() + " line 3: this token is also given to an earlier name; "
                        + "each name needs its own token" + recipe()));
    }

    @Test
    void aDirectory_isRefused() throws Exception {
        Files.createDirectory(file());
        assertThat(AdminToken.read(file())).isEqualTo(new AdminToken.Unusable("admin token file " + file() + " is a directory" + recipe()));
    }

    @Test
    void worldReadable_isUsable_withAWarningSayingHowToFixIt() throws Exception {
        assertThat(AdminToken.read(write("0123456789abcdef\n", "rw-r--r--"))).isEqualTo(new AdminToken.Usable(bare("0123456789abcdef"),
                Optional.of("admin token file " + file() + " is open to other users (mode 644): anyone on this host who reads it "
                        + "can publish to the mesh; make it owner-only: chmod 600 " + file())));
    }

    @Test
    void ownerOnly_oneLine_isUsable_withoutWarning() throws Exception {
        assertThat(AdminToken.read(write("  0123456789abcdef\n", "rw-r-----"))).isEqualTo(new AdminToken.Usable(bare("0123456789abcdef"), Optional.empty()));
    }

    @Test
    void theRecipeInTheMessage_makesAGoodFile() throws Exception {
        Process p = new ProcessBuilder("bash", "-c", AdminToken.howToMake(file())).inheritIO().start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();

        AdminToken.Result r = AdminToken.read(file());

        assertThat(r).isInstanceOfSatisfying(AdminToken.Usable.class, u -> {
            // 32 random bytes are 43 base64 characters; '/' and '+' are deleted, so the length varies (38 was
            // seen in CI): what matters is that the file is usable, i.e. at least MIN_LENGTH
            assertThat(u.grants()).hasSize(1);
            assertThat(u.grants().get(0).token()).hasSizeGreaterThanOrEqualTo(AdminToken.MIN_LENGTH).matches("[A-Za-z0-9]+");
            assertThat(u.warning()).isEmpty();
        });
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file()))).isEqualTo("rw-------");
    }

    @Test
    void load_missingExplicitFile_failsWithTheSameText() {
        assertThatThrownBy(() -> AdminToken.load(file(), false)).isInstanceOf(IOException.class)
                .hasMessage("admin token file " + file() + " does not exist" + recipe());
    }

    @Test
    void load_tryItMode_createsAnOwnerOnlyToken() throws Exception {
        List<AdminToken.Grant> grants = AdminToken.load(dir.resolve("data").resolve("admin.token"), true);
        assertThat(grants).hasSize(1);
        assertThat(grants.get(0).name()).isEqualTo(AdminToken.BARE_NAME);
        String token = grants.get(0).token();

        assertThat(token).hasSizeGreaterThanOrEqualTo(AdminToken.MIN_LENGTH);
        assertThat(Files.readString(dir.resolve("data").resolve("admin.token")).strip()).isEqualTo(token);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("data").resolve("admin.token")))).isEqualTo("rw-------");
        assertThat(AdminToken.load(dir.resolve("data").resolve("admin.token"), true)).as("read again, not replaced").isEqualTo(grants);
    }
}
