package io.knowngood.node.logs;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.node.config.LogFormat;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The lines the kgnode jar writes, produced by a logback context of its own (node's tests log
 * through slf4j-simple): text exactly as before, stack traces as printStackTrace writes them; JSON
 * one object per line with the stack trace in a field.
 */
class LogbackSetupTest {

    private final IllegalStateException failure = new IllegalStateException("disk gone", new java.io.IOException("EIO"));

    @Test
    void text_isTheSlf4jSimpleLine_withTheStackTraceAsPrintStackTraceWritesIt() {
        String out = capture(LogFormat.TEXT, log -> log.error("store write failed for {} v{}", "desk", 7, failure));
        String first = out.substring(0, out.indexOf(System.lineSeparator()));
        assertThat(first).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d) \\[main\\] ERROR BundleStore - store write failed for desk v7");
        StringWriter trace = new StringWriter();
        failure.printStackTrace(new PrintWriter(trace));
        assertThat(out.substring(first.length() + System.lineSeparator().length())).isEqualTo(trace.toString());
    }

    @Test
    void json_isOneObjectPerLine_withTheFieldsShippersRead_andTheStackTrace() throws Exception {
        String out = capture(LogFormat.JSON, log -> {
            log.info("node {} serving {} bundles", "host-17", 3);
            log.error("store write failed", failure);
        });
        String[] lines = out.split("\n");
        assertThat(lines).hasSize(2);
        ObjectMapper json = new ObjectMapper();
        JsonNode info = json.readTree(lines[0]);
        assertThat(info.path("message").asText()).isEqualTo("node host-17 serving 3 bundles");
        assertThat(info.path("level").asText()).isEqualTo("INFO");
        assertThat(info.path("logger_name").asText()).isEqualTo("io.knowngood.node.store.BundleStore");
        assertThat(info.path("thread_name").asText()).isEqualTo("main");
        assertThat(info.path("@timestamp").asText()).endsWith("Z");
        assertThat(Instant.parse(info.path("@timestamp").asText())).isBetween(Instant.now().minusSeconds(60), Instant.now());
        assertThat(info.has("stack_trace")).isFalse();
        JsonNode error = json.readTree(lines[1]);
        assertThat(error.path("level").asText()).isEqualTo("ERROR");
        assertThat(error.path("stack_trace").asText()).startsWith("java.lang.IllegalStateException: disk gone")
                .contains("Caused by: java.io.IOException: EIO");
    }

    @Test
    void chattyLibraries_stayAtWarn_andSwitchingFormatsLeavesOneAppender() {
        LoggerContext context = new LoggerContext();
        LogbackSetup.install(context, LogFormat.TEXT);
        LogbackSetup.install(context, LogFormat.JSON);
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        assertThat(root.isInfoEnabled()).isTrue();
        assertThat(root.isDebugEnabled()).isFalse();
        for (String lib : new String[] {"org.xnio.nio", "io.undertow.server", "org.jgroups.protocols.TCP", "org.infinispan.CLUSTER"}) {
            assertThat(context.getLogger(lib).isInfoEnabled()).as(lib).isFalse();
            assertThat(context.getLogger(lib).isWarnEnabled()).as(lib).isTrue();
        }
        assertThat(root.iteratorForAppenders()).toIterable().hasSize(1);
        context.stop();
    }

    @Test
    void aLevelProperty_setsThatLogger_andABadValueChangesNothing() {
        LoggerContext context = new LoggerContext();
        LogbackSetup.install(context, LogFormat.TEXT);
        java.util.Properties p = new java.util.Properties();
        p.setProperty("kgnode.log.org.jgroups.protocols.pbcast.GMS", "debug");
        p.setProperty("kgnode.log.org.infinispan", "loud");
        p.setProperty("kgnode.log.", "debug");
        p.setProperty("other.org.xnio", "debug");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            LogbackSetup.overrides(context, p);
        } finally {
            System.setErr(old);
        }
        assertThat(context.getLogger("org.jgroups.protocols.pbcast.GMS").isDebugEnabled()).isTrue();
        assertThat(context.getLogger("org.jgroups.protocols.TCP").isInfoEnabled()).isFalse();
        assertThat(context.getLogger("org.infinispan.CLUSTER").isInfoEnabled()).isFalse();
        assertThat(context.getLogger("org.xnio").isInfoEnabled()).isFalse();
        assertThat(context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).isDebugEnabled()).isFalse();
        assertThat(err.toString(StandardCharsets.UTF_8))
                .isEqualTo("kgnode: ignoring -Dkgnode.log.org.infinispan=loud: not a level (TRACE, DEBUG, INFO, WARN, ERROR, OFF)"
                        + System.lineSeparator());
        context.stop();
    }

    /** What a fresh context set up for {@code format} writes to stderr while {@code logging} runs on this thread. */
    @Test
    void jgroupsBenignTransportRaces_areDropped_everyOtherTransportWarningOrErrorStays() {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter());
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int filters;
        try {
            LogbackSetup.install(context, LogFormat.TEXT);
            LogbackSetup.install(context, LogFormat.TEXT); // installed twice (text, then the configured format): one filter
            filters = context.getTurboFilterList().size();
            org.slf4j.Logger transport = context.getLogger("io.knowngood.replication.DirectionalTcp");
            transport.warn("failed handling message", new java.io.IOException("Stream closed"));
            transport.warn("failed handling message", new java.io.IOException("Connection reset by peer"));
            transport.warn("something else", new java.io.IOException("Stream closed"));
            context.getLogger("org.jgroups.protocols.TCP").warn("failed handling message", new java.io.IOException("Stream closed"));
            // a stack stopping: its pool terminated
            transport.error("failed processing batch", new java.util.concurrent.RejectedExecutionException(
                    "Task VERIFY_SUSPECT2 (n1) rejected from java.util.concurrent.ThreadPoolExecutor@24f53a5e[Terminated, pool size = 0]"));
            transport.error("failed processing batch", new java.util.concurrent.RejectedExecutionException(
                    "Task X rejected from java.util.concurrent.ThreadPoolExecutor@1[Running, pool size = 8, active threads = 8]"));
        } finally {
            System.setErr(old);
            context.stop();
        }
        String out = err.toString(StandardCharsets.UTF_8);
        String nl = System.lineSeparator();
        assertThat(filters).isEqualTo(1);
        assertThat(out.lines().filter(l -> l.contains(" WARN ")).count()).as(out).isEqualTo(3);
        assertThat(out.lines().filter(l -> l.contains(" ERROR ")).count()).as("only the pool still running: " + out).isEqualTo(1);
        assertThat(out).contains("[Running, pool size = 8").doesNotContain("[Terminated");
        assertThat(out).contains("DirectionalTcp - failed handling message" + nl + "java.io.IOException: Connection reset by peer")
                .contains("DirectionalTcp - something else" + nl + "java.io.IOException: Stream closed")
                .contains("TCP - failed handling message" + nl + "java.io.IOException: Stream closed")
                .doesNotContain("DirectionalTcp - failed handling message" + nl + "java.io.IOException: Stream closed");
    }

    private static String capture(LogFormat format, Consumer<org.slf4j.Logger> logging) {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter()); // SLF4J's initialisation gives the real one its adapter
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        String thread = Thread.currentThread().getName();
        try {
            Thread.currentThread().setName("main");
            LogbackSetup.install(context, format);
            logging.accept(context.getLogger("io.knowngood.node.store.BundleStore"));
        } finally {
            Thread.currentThread().setName(thread);
            System.setErr(old);
            context.stop();
        }
        return err.toString(StandardCharsets.UTF_8);
    }
}
