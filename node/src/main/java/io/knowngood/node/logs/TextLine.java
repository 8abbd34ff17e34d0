package io.knowngood.node.logs;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * kgnode's text line, exactly as slf4j-simple wrote it before logback (tests, docs and operators
 * match it): {@code 2026-12-01T16:00:00.123Z [main] INFO Node - message}, local time zone, the
 * logger's last name segment, then a stack trace as {@link Throwable#printStackTrace()} writes it.
 * Written by hand rather than with a PatternLayout: the pattern machinery loads some 200 classes
 * (~40 ms measured) before the node's first line. The time is formatted once per second (the date,
 * the time to the second and the zone's offset), only the milliseconds per line: the formatter took
 * half of a line's cost, and a receiving node logs on its ingest thread (issue 18).
 */
final class TextLine extends LayoutBase<ILoggingEvent> {

    private static final DateTimeFormatter SECOND = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.");
    private static final DateTimeFormatter OFFSET = DateTimeFormatter.ofPattern("X");

    /** The parts of a time stamp that stay the same within {@code epochSecond}. */
    private record Second(long epochSecond, String upToTheSecond, String offset) {}

    private final ZoneId zone;
    private volatile Second second = new Second(Long.MIN_VALUE, "", "");

    TextLine() {
        this(ZoneId.systemDefault());
    }

    TextLine(ZoneId zone) {
        this.zone = zone;
    }

    @Override
    public String doLayout(ILoggingEvent event) {
        String logger = event.getLoggerName();
        StringBuilder line = new StringBuilder(128);
        appendTime(event.getInstant(), line);
        line.append(" [").append(event.getThreadName()).append("] ").append(event.getLevel()).append(' ')
                .append(logger, logger.lastIndexOf('.') + 1, logger.length()).append(" - ").append(event.getFormattedMessage())
                .append(CoreConstants.LINE_SEPARATOR);
        IThrowableProxy proxy = event.getThrowableProxy();
        if (proxy instanceof ThrowableProxy live) {
            StringWriter trace = new StringWriter();
            live.getThrowable().printStackTrace(new PrintWriter(trace));
            line.append(trace);
        } else if (proxy != null) {
            line.append(ThrowableProxyUtil.asString(proxy)).append(CoreConstants.LINE_SEPARATOR);
        }
        return line.toString();
    }

    /** {@code instant} as {@code yyyy-MM-dd'T'HH:mm:ss.SSSX} in this layout's zone. */
    void appendTime(Instant instant, StringBuilder line) {
        long epochSecond = instant.getEpochSecond();
        Second s = second;
        if (s.epochSecond() != epochSecond) {
            var t = Instant.ofEpochSecond(epochSecond).atZone(zone);
            s = new Second(epochSecond, SECOND.format(t), OFFSET.format(t));
            second = s;
        }
        int millis = instant.getNano() / 1_000_000;
        line.append(s.upToTheSecond()).append((char) ('0' + millis / 100)).append((char) ('0' + millis / 10 % 10))
                .append((char) ('0' + millis % 10)).append(s.offset());
    }
}
