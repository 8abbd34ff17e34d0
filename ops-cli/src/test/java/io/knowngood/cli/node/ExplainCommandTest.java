package io.knowngood.cli.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.api.ApiJson;
import io.knowngood.api.Explain;
import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.KgctlRunner.Run;
import io.knowngood.cli.bundle.BundleFixture;
import io.knowngood.node.TestNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kgctl explain} against a real node in process with two pools: the report, {@code --output json},
 * and every exit code (0 verified copy, 1 none, 2 usage, 4 unreachable, 5 token refused).
 */
class ExplainCommandTest {
    static final String FINANCE_VM = "127.0.10.5";
    static final String KIOSK_VM = "127.0.20.5";

    static BundleFixture bundles;
    static TestNode node;
    static Path tokenFile;
    static final KgctlRunner KGCTL = new KgctlRunner();

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        bundles = new BundleFixture(dir);
        node = TestNode.start(dir.resolve("node"), bundles.pub, s -> s.pool = List.of("finance=127.0.10.0/24", "kiosk=127.0.20.0/24"));
        tokenFile = Files.writeString(dir.resolve("admin.token"), node.token + "\n");
        publish(pack(dir, "desk", 1));
        publish(pack(dir, "pay", 1, "--pool", "finance"));
        // created at the runner's fixed clock (2026-11-25T10:00Z), expired a day later: long past for the node
        publish(pack(dir, "stale", 1, "--expires", "2026-11-26T10:00:00Z"));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    static Path pack(Path dir, String name, long version, String... more) {
        Path out = dir.resolve(name + "-" + version + ".tar");
        List<String> args = new ArrayList<>(List.of("bundle", "pack", bundles.src.toString(), "--name", name, "--version", Long.toString(version),
                "--key", bundles.key.toString(), "--out", out.toString()));
        args.addAll(Arrays.asList(more));
        Run r = KGCTL.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.err()).isZero();
        return out;
    }

    static void publish(Path archive) {
        Run r = explainLike("publish", archive.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
    }

    static Run explainLike(String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.addAll(List.of("--node", node.admin("").toString(), "--token-file", tokenFile.toString()));
        return KGCTL.run(all.toArray(String[]::new));
    }

    @Test
    void allWell_exit0_verifiedCopy_everyDependencyOkOrNotApplicable() {
        Run r = explainLike("explain", "desk");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("a VM in no pool (pools: none) gets desk version 1 (good): a VERIFIED copy")
                .contains("expires:   never").contains("dependencies:")
                .contains("not needed: this node never resolves a name");
        List<String> deps = r.out().lines().dropWhile(l -> !l.equals("dependencies:")).skip(2).toList();
        assertThat(deps).extracting(l -> l.trim().split("\\s+")[0]).containsOnly("ok", "N/A");
        assertThat(deps).extracting(l -> l.trim().split("\\s+")[1])
                .containsExactly("peer", "site", "publish", "store", "disk", "certificate", "certificate", "clock", "dns");
    }

    @Test
    void pooledBundle_exit0_forItsPool_exit1_hiddenFromAnotherPool() {
        Run finance = explainLike("explain", "pay", "--vm", FINANCE_VM);
        assertThat(finance.exitCode()).as(finance.err()).isZero();
        assertThat(finance.out()).contains("VM 127.0.10.5 (pools: finance) gets pay version 1 (good): a VERIFIED copy");

        Run kiosk = explainLike("explain", "pay", "--vm", KIOSK_VM);
        assertThat(kiosk.exitCode()).isEqualTo(1);
        assertThat(kiosk.out()).contains("VM 127.0.20.5 (pools: kiosk) gets NOTHING for pay: hidden by pools")
                .contains("is for pools finance");
        Run nowhere = explainLike("explain", "pay");
        assertThat(nowhere.exitCode()).isEqualTo(1);
        Run v6 = explainLike("explain", "desk", "--vm", "fd00:10::7");
        assertThat(v6.exitCode()).as(v6.err()).isZero();
        assertThat(v6.out()).contains("VM fd00:10::7 (pools: none) gets desk version 1 (good)");
    }

    @Test
    void expiredVersion_exit0_saysExpired() {
        Run r = explainLike("explain", "stale", "--vm", KIOSK_VM);
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("gets stale version 1 (good): a VERIFIED copy")
                .contains("expires:   2026-11-26T10:00:00Z (EXPIRED: still served");
    }

    @Test
    void outputJson_isTheApiRecord() {
        Run r = explainLike("explain", "pay", "--vm", KIOSK_VM, "-o", "json");
        assertThat(r.exitCode()).isEqualTo(1);
        Explain e = ((ApiJson.Decoded.Body<Explain>) ApiJson.decode(r.out().getBytes(StandardCharsets.UTF_8), Explain.class)).value();
        assertThat(e.vm().outcome()).isEqualTo(Explain.Vm.HIDDEN_BY_POOLS);
        assertThat(e.vmAddress()).isEqualTo(KIOSK_VM);
        assertThat(e.pools()).containsExactly("kiosk");
        assertThat(e.dependencies()).isNotEmpty();
    }

    @Test
    void exitCodes() throws Exception {
        assertThat(explainLike("explain", "never-published").exitCode()).isEqualTo(1);
        Run badVm = explainLike("explain", "desk", "--vm", "desk.example.com");
        assertThat(badVm.exitCode()).isEqualTo(2);
        assertThat(badVm.err()).contains("bad_query");
        assertThat(explainLike("explain", "Not A Name").exitCode()).isEqualTo(2);
        assertThat(KGCTL.run("explain", "desk", "--token-file", tokenFile.toString()).exitCode()).isEqualTo(2); // no --node
        Run dead = KGCTL.run("explain", "desk", "--node", OnlineFixture.deadUrl(), "--token-file", tokenFile.toString());
        assertThat(dead.exitCode()).isEqualTo(4);
        Path wrong = Files.writeString(tokenFile.resolveSibling("wrong.token"), "not-the-token-0123456789\n");
        assertThat(KGCTL.run("explain", "desk", "--node", node.admin("").toString(), "--token-file", wrong.toString()).exitCode())
                .isEqualTo(5);
    }

    @Test
    void kgctlVm_environmentVariable_isNotTakenAsTheVmAddress() {
        KgctlRunner withVm = new KgctlRunner(Map.of("KGCTL_VM", node.vm("").toString()));
        Run r = withVm.run("explain", "desk", "--node", node.admin("").toString(), "--token-file", tokenFile.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("a VM in no pool");
    }
}
