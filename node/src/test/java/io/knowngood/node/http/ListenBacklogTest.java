package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The kernel's accept-queue cap as the node reads it at start, for its boot-storm warning. */
class ListenBacklogTest {

    @Test
    void somaxconn_isTheKernelsWholeNumber_notItsFirstDigit() throws Exception {
        // readAllLines reads in 8 KiB chunks; Files.readString read "4096" as "4" (a one-byte first read)
        int kernels = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/core/somaxconn")).get(0).trim());

        assertThat(HardenedServer.somaxconn()).hasValue(kernels);
    }
}
