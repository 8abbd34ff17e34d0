package io.knowngood.node.logs;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import io.knowngood.node.config.LogFormat;
import java.util.Map;
import net.logstash.logback.encoder.LogstashEncoder;
import org.slf4j.ILoggerFactory;

/**
 * logback for kgnode, in code: found through ServiceLoader at the first logger (so no XML is looked
 * for or parsed on the start path), it writes text lines on stderr; {@link #install} replaces them
 * by JSON lines when {@code log-format: json} is read. The JSON encoder is only built then.
 */
public final class LogbackSetup extends ContextAwareBase implements Configurator {

    /** Chatty libraries kept to warnings, as before. */
    static final Map<String, Level> LEVELS = Map.of(
            "org.xnio", Level.WARN, "io.undertow", Level.WARN, "org.jgroups", Level.WARN, "org.infinispan", Level.WARN);

    static final String APPENDER = "stderr";

    /** {@code -Dkgnode.log.LOGGER=LEVEL} sets one logger's level (to look into a library while diagnosing). */
    static final String LEVEL_PROPERTY_PREFIX = "kgnode.log.";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        install(context, LogFormat.TEXT);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** Sets the levels and replaces the stderr appender by one writing {@code format}. */
    static void install(ILoggerFactory backend, LogFormat format) {
        LoggerContext context = (LoggerContext) backend;
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        LEVELS.forEach((name, level) -> context.getLogger(name).setLevel(level));
        overrides(context, System.getProperties());
        context.getTurboFilterList().removeIf(f -> f instanceof BenignTransportRaces); // install runs again for JSON
        BenignTransportRaces race = new BenignTransportRaces();
        race.setContext(context);
        race.start();
        context.addTurboFilter(race);
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName(APPENDER);
        stderr.setTarget("System.err");
        stderr.setEncoder(format == LogFormat.JSON ? json(context) : text(context));
        stderr.start();
        root.detachAndStopAllAppenders();
        root.addAppender(stderr);
    }

    /**
     * Applies every {@code kgnode.log.LOGGER=LEVEL} of {@code properties} (e.g.
     * {@code -Dkgnode.log.org.jgroups.protocols.pbcast.GMS=debug}); a value that is no level is
     * reported on stderr and changes nothing.
     */
    static void overrides(LoggerContext context, java.util.Properties properties) {
        for (String key : properties.stringPropertyNames()) {
            if (!key.startsWith(LEVEL_PROPERTY_PREFIX) || key.length() == LEVEL_PROPERTY_PREFIX.length()) {
                continue;
            }
            String value = properties.getProperty(key).trim();
            Level level = Level.toLevel(value, null);
            if (level == null) {
                System.err.println("kgnode: ignoring -D" + key + "=" + value
                        + ": not a level (TRACE, DEBUG, INFO, WARN, ERROR, OFF)");
                continue;
            }
            context.getLogger(key.substring(LEVEL_PROPERTY_PREFIX.length())).setLevel(level);
        }
    }

    static Encoder<ILoggingEvent> text(LoggerContext context) {
        TextLine layout = new TextLine();
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();
        return encoder;
    }

    /** One JSON object per line: @timestamp (UTC), level, logger_name, thread_name, message, stack_trace, ... */
    static Encoder<ILoggingEvent> json(LoggerContext context) {
        LogstashEncoder encoder = new LogstashEncoder();
        encoder.setContext(context);
        encoder.setTimeZone("UTC");
        encoder.start();
        return encoder;
    }
}
