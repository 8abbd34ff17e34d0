package io.knowngood.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class KgNodeVersionTest {

    @Test
    void version_printsTheMavenProjectVersion_andExitsZero() {
        String expected = System.getProperty("knowngood.version");
        assertThat(expected).as("surefire passes the project version as knowngood.version").isNotBlank();
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new KgNode());
        cl.setOut(new PrintWriter(out, true));

        int code = cl.execute("--version");

        assertThat(code).isZero();
        assertThat(out.toString()).isEqualTo("knowngood " + expected + System.lineSeparator());
    }
}
