package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.replication.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokens are re-read when their file changes (at most once a second, by the injected clock); a broken file keeps the old ones. */
class AdminAccessTest {

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T12:00:00Z"));

    private Path write(String content) throws Exception {
        Path tmp = dir.resolve("tokens.tmp");
        Files.writeString(tmp, content);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        // replaced by rename, as editors and config management do: a new file key even within one mtime tick
        return Files.move(tmp, dir.resolve("tokens"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private AdminAccess access(Path file) {
        return new AdminAccess(file, ((AdminToken.Usable) AdminToken.read(file)).grants(), clock);
    }

    @Test
    void bareFile_isOneTokenWithEveryScope_andAWrongTokenIsNobody() throws Exception {
        AdminAccess a = access(write("0123456789abcdef0123\n"));

        assertThat(a.authenticate("0123456789abcdef0123")).hasValueSatisfying(g -> {
            assertThat(g.name()).isEqualTo("admin");
            assertThat(g.may(AdminToken.Scope.PUBLISH)).isTrue();
        });
        assertThat(a.authenticate("0123456789abcdef012")).isEmpty();
        assertThat(a.authenticate("")).isEmpty();
        assertThat(a.authenticate(null)).isEmpty();
    }

    @Test
    void changedFile_isTakenAfterTheRecheckInterval_notBefore() throws Exception {
        Path file = write("ops publish ops-token-0123456789\n");
        AdminAccess a = access(file);
        write("ops publish ops-token-0123456789\nmonitor read monitor-token-012345\n");

        assertThat(a.authenticate("monitor-token-012345")).as("within the interval: not looked at yet").isEmpty();
        clock.advance(AdminAccess.RECHECK);
        assertThat(a.authenticate("monitor-token-012345")).hasValueSatisfying(g -> assertThat(g.may(AdminToken.Scope.PUBLISH)).isFalse());
        assertThat(a.names()).containsExactly("ops", "monitor");

        write("monitor read monitor-token-012345\n"); // ops revoked
        clock.advance(AdminAccess.RECHECK);
        assertThat(a.authenticate("ops-token-0123456789")).isEmpty();
        assertThat(a.authenticate("monitor-token-012345")).isPresent();
    }

    @Test
    void brokenFile_keepsTheTokensReadBefore_untilItIsFixed() throws Exception {
        Path file = write("ops publish ops-token-0123456789\n");
        AdminAccess a = access(file);

        write("ops publish short\n");
        clock.advance(Duration.ofSeconds(5));
        assertThat(a.authenticate("ops-token-0123456789")).as("a typo does not lock everyone out").isPresent();

        write("ops2 publish ops2-token-0123456789\n");
        clock.advance(Duration.ofSeconds(5));
        assertThat(a.authenticate("ops-token-0123456789")).isEmpty();
        assertThat(a.authenticate("ops2-token-0123456789")).isPresent();
    }
}
