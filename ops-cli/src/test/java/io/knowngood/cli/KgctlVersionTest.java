package io.knowngood.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.cli.KgctlRunner.Run;
import org.junit.jupiter.api.Test;

class KgctlVersionTest {

    @Test
    void version_printsTheMavenProjectVersion_andExitsZero() {
        String expected = System.getProperty("knowngood.version");
        assertThat(expected).as("surefire passes the project version as knowngood.version").isNotBlank();

        Run r = new KgctlRunner().run("--version");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("knowngood " + expected + System.lineSeparator());
        assertThat(r.err()).isEmpty();
    }
}
