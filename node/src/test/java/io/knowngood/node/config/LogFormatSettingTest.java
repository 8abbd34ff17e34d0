package io.knowngood.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.knowngood.node.KgNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code log-format}: the flag over the file over {@code KGNODE_LOG_FORMAT} over text; a bad value names where it came from. */
class LogFormatSettingTest {

    @TempDir
    Path dir;

    @Test
    void nothingGiven_isText() throws Exception {
        assertThat(load(null, null, Map.of()).logFormat()).isEqualTo(LogFormat.TEXT);
        assertThat(NodeConfig.resolve(new Settings()).logFormat()).isEqualTo(LogFormat.TEXT);
    }

    @Test
    void environmentAlone_isUsed_andBlankIsUnset() throws Exception {
        assertThat(load(null, null, Map.of("KGNODE_LOG_FORMAT", "json")).logFormat()).isEqualTo(LogFormat.JSON);
        assertThat(load(null, null, Map.of("KGNODE_LOG_FORMAT", " ")).logFormat()).isEqualTo(LogFormat.TEXT);
    }

    @Test
    void fileOverridesTheEnvironment_andTheFlagOverridesTheFile() throws Exception {
        Map<String, String> env = Map.of("KGNODE_LOG_FORMAT", "json");
        assertThat(load("log-format: text\n", null, env).logFormat()).isEqualTo(LogFormat.TEXT);
        assertThat(load("log-format: json\n", null, Map.of()).logFormat()).isEqualTo(LogFormat.JSON);
        assertThat(load("log-format: json\n", "text", env).logFormat()).isEqualTo(LogFormat.TEXT);
        assertThat(load("log-format: text\n", "json", Map.of()).logFormat()).isEqualTo(LogFormat.JSON);
    }

    @Test
    void aBadValue_namesTheFlagKeyOrVariable() {
        assertThatThrownBy(() -> load(null, "xml", Map.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("log-format: expected text or json, got 'xml'");
        assertThatThrownBy(() -> load("log-format: JSON\n", null, Map.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("log-format: expected text or json, got 'JSON'");
        assertThatThrownBy(() -> load(null, null, Map.of("KGNODE_LOG_FORMAT", "logfmt"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("KGNODE_LOG_FORMAT: expected text or json, got 'logfmt'");
    }

    @Test
    void aBadEnvironmentValue_isNotReadWhenTheFlagDecides() throws Exception {
        assertThat(load(null, "json", Map.of("KGNODE_LOG_FORMAT", "logfmt")).logFormat()).isEqualTo(LogFormat.JSON);
    }

    @Test
    void kgnodeRun_withABadLogFormat_exits2_withOneLineOnStderr() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = new CommandLine(new KgNode()).execute("run", "--log-format", "xml");
        } finally {
            System.setErr(old);
        }
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("kgnode: bad configuration: log-format: expected text or json, got 'xml'"
                + System.lineSeparator());
    }

    private NodeConfig load(String yaml, String flag, Map<String, String> env) throws Exception {
        Optional<Path> file = Optional.empty();
        if (yaml != null) {
            file = Optional.of(Files.writeString(dir.resolve("kgnode.yaml"), yaml));
        }
        Settings flags = new Settings();
        if (flag != null) {
            new CommandLine(flags).parseArgs("--log-format", flag);
        }
        return NodeConfig.load(file, flags, env);
    }
}
