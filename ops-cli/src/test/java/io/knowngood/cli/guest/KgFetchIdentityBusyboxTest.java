package io.knowngood.cli.guest;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.knowngood.testkit.Ci;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;

/** {@link KgFetchIdentityTest} again under busybox sh, with busybox applets, curl, openssl and age only on the PATH. */
class KgFetchIdentityBusyboxTest extends KgFetchIdentityTest {

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
