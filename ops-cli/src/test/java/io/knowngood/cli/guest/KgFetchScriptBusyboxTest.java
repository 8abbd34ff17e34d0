package io.knowngood.cli.guest;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.knowngood.testkit.Ci;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;

/**
 * Every case of {@link KgFetchScriptTest} again, with kg-fetch.sh run by busybox sh and nothing on
 * its PATH but busybox's applets, curl and openssl: what a minimal image has.
 */
class KgFetchScriptBusyboxTest extends KgFetchScriptTest {

    @BeforeAll
    static void needsBusybox() {
        String missing = GuestShell.missing("busybox");
        assumeTrue(Ci.available(missing), missing);
    }

    @Override
    GuestShell shell(Path binDir) throws Exception {
        return GuestShell.busybox(binDir);
    }
}
