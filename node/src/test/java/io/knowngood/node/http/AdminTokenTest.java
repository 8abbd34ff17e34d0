package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
    void twoLines_isRefused() throws Exception {
        assertThat(AdminToken.read(write("first-token-0123456789\nsecond-token-0123456789\n", "rw-------"))).isEqualTo(
                new AdminToken.Unusable("admin token file " + file() + " holds 2 lines; it must hold the token alone, on one line" + recipe()));
    }

    @Test
    void spaceInside_isRefused() throws Exception {
        assertThat(AdminToken.read(write("my token is long enough\n", "rw-------"))).isEqualTo(new AdminToken.Unusable(
                "admin token in " + file() + " holds spaces or characters outside printable ASCII (it travels in an HTTP header)" + recipe()));
    }

    @Test
    void aDirectory_isRefused() throws Exception {
        Files.createDirectory(file());
        assertThat(AdminToken.read(file())).isEqualTo(new AdminToken.Unusable("admin token file " + file() + " is a directory" + recipe()));
    }

    @Test
    void worldReadable_isUsable_withAWarningSayingHowToFixIt() throws Exception {
        assertThat(AdminToken.read(write("0123456789abcdef\n", "rw-r--r--"))).isEqualTo(new AdminToken.Usable("0123456789abcdef",
                Optional.of("admin token file " + file() + " is open to other users (mode 644): anyone on this host who reads it "
                        + "can publish to the mesh; make it owner-only: chmod 600 " + file())));
    }

    @Test
    void ownerOnly_oneLine_isUsable_withoutWarning() throws Exception {
        assertThat(AdminToken.read(write("  0123456789abcdef\n", "rw-r-----"))).isEqualTo(new AdminToken.Usable("0123456789abcdef", Optional.empty()));
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
            assertThat(u.token()).hasSizeGreaterThanOrEqualTo(AdminToken.MIN_LENGTH).matches("[A-Za-z0-9]+");
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
        String token = AdminToken.load(dir.resolve("data").resolve("admin.token"), true);

        assertThat(token).hasSizeGreaterThanOrEqualTo(AdminToken.MIN_LENGTH);
        assertThat(Files.readString(dir.resolve("data").resolve("admin.token")).strip()).isEqualTo(token);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("data").resolve("admin.token")))).isEqualTo("rw-------");
        assertThat(AdminToken.load(dir.resolve("data").resolve("admin.token"), true)).as("read again, not replaced").isEqualTo(token);
    }
}
