package io.knowngood.cli.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.cli.KgctlRunner.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kgctl seed against a stub node: publishes what changed at current+1, and nothing on a second run. */
class SeedCommandTest {
    @TempDir
    Path dir;

    private OnlineFixture f;
    private Path root;

    @BeforeEach
    void setUp() throws Exception {
        f = new OnlineFixture(dir);
        root = dir.resolve("bundles");
        Files.createDirectories(root.resolve("desktop-base/etc"));
        Files.writeString(root.resolve("desktop-base/etc/app.conf"), "a=1\n");
        Files.createDirectories(root.resolve("printers"));
        Files.writeString(root.resolve("printers/list.txt"), "hp-4th-floor\n");
        Files.createDirectories(root.resolve(".git"));
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    private Run seed(String... extra) {
        String[] base = {"seed", root.toString(), "--key", f.bundles.key.toString(), "--vm", f.vm()};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return f.admin(all);
    }

    @Test
    void seed_publishesEveryFolder_thenASecondRunPublishesNothing() {
        Run first = seed();

        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(first.out()).contains("published  desktop-base version 1", "published  printers version 1",
                "published 2, unchanged 0, failed 0");
        assertThat(f.node.puts()).isEqualTo(2);

        Run second = seed();

        assertThat(second.exitCode()).as(second.err()).isZero();
        assertThat(second.out()).contains("unchanged  desktop-base (version 1)", "nothing to publish: 2 bundles unchanged");
        assertThat(f.node.puts()).isEqualTo(2);
    }

    @Test
    void seed_changedFolder_isPublishedAtCurrentPlusOne_othersUntouched() throws Exception {
        seed();
        f.publish("printers", 7); // someone published other content as printers v7 by hand
        Files.writeString(root.resolve("desktop-base/etc/app.conf"), "a=2\n");

        Run r = seed("-o", "json");

        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode n = new ObjectMapper().readTree(r.out());
        assertThat(n.get("published").asInt()).isEqualTo(2);
        JsonNode desktop = n.get("bundles").get(0);
        assertThat(desktop.get("name").asText()).isEqualTo("desktop-base");
        assertThat(desktop.get("action").asText()).isEqualTo("published");
        assertThat(desktop.get("version").asLong()).isEqualTo(2);
        assertThat(desktop.get("previous").asLong()).isEqualTo(1);
        JsonNode printers = n.get("bundles").get(1);
        assertThat(printers.get("version").asLong()).isEqualTo(8); // content differed from v7: back to the tree's, at 8
    }

    @Test
    void seed_labelChange_countsAsAChange() {
        seed();

        Run r = seed("--label", "site=berlin");

        assertThat(r.out()).contains("published  desktop-base version 2", "published  printers version 2");
    }

    @Test
    void seed_dryRun_publishesNothing() {
        Run r = seed("--dry-run");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("would publish desktop-base version 1");
        assertThat(f.node.puts()).isZero();
    }

    @Test
    void seed_badFolderName_failsThatOne_exit1_publishesTheRest() throws Exception {
        Files.createDirectories(root.resolve("Bad Name"));
        Files.writeString(root.resolve("Bad Name/x"), "x");

        Run r = seed();

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("kgctl seed: Bad Name: folder name is not a bundle name");
        assertThat(r.err().lines().toList()).last().isEqualTo("kgctl seed: 1 of 3 bundles failed");
        assertThat(f.node.puts()).isEqualTo(2);
    }

    @Test
    void seed_withoutVmEndpoint_saysTheAdminEndpointServesNoArchives() {
        seed();

        Run r = f.admin("seed", root.toString(), "--key", f.bundles.key.toString());

        assertThat(r.exitCode()).isEqualTo(6);
        assertThat(r.err()).contains("does not serve bundle archives (is it the admin endpoint?): give the VM endpoint with --vm URL or KGCTL_VM");
    }

    @Test
    void seed_nodeDown_exit4() throws Exception {
        Run r = f.kgctl.run("seed", root.toString(), "--key", f.bundles.key.toString(), "--node", OnlineFixture.deadUrl(),
                "--token-file", f.tokenFile.toString());

        assertThat(r.exitCode()).isEqualTo(4);
    }

    @Test
    void seed_missingRoot_exit3() {
        Run r = f.admin("seed", dir.resolve("none").toString(), "--key", f.bundles.key.toString());

        assertThat(r.exitCode()).isEqualTo(3);
    }
}
