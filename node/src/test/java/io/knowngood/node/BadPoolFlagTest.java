package io.knowngood.node;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code kgnode run} with a bad {@code --pool}: one line on stderr and exit 2, as for any bad flag; nothing starts. */
class BadPoolFlagTest {

    @Test
    void hostBitsSet_exits2_withTheCanonicalPrefixSuggested() {
        assertThat(run("--pool", "finance=192.168.10.5/24"))
                .isEqualTo("2 kgnode: bad configuration: pool finance: '192.168.10.5/24' has host bits set; did you mean 192.168.10.0/24?");
    }

    @Test
    void aZone_orAHostName_orABadPoolName_exit2() {
        assertThat(run("--pool", "lab=fe80::%br0/64")).startsWith("2 kgnode: bad configuration: pool lab: ").contains("zone");
        assertThat(run("--pool", "lab=gateway.lan")).startsWith("2 ").contains("host names are not accepted");
        assertThat(run("--pool", "Finance=10.0.0.0/8")).startsWith("2 ").contains("pool name 'Finance'");
    }

    /** Exit code, a space, and what was written to stderr (one line, trimmed). */
    private static String run(String... args) {
        KgNodeRun r = KgNodeRun.of(args);
        assertThat(r.errLines()).hasSize(1);
        return r.code() + " " + r.errLines().get(0);
    }
}
