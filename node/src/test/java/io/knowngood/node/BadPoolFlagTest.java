package io.knowngood.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

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
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            String[] all = new String[args.length + 1];
            all[0] = "run";
            System.arraycopy(args, 0, all, 1, args.length);
            int code = new CommandLine(new KgNode()).execute(all);
            String text = err.toString(StandardCharsets.UTF_8).trim();
            assertThat(text.lines().count()).as(text).isEqualTo(1);
            return code + " " + text;
        } finally {
            System.setErr(old);
        }
    }
}
