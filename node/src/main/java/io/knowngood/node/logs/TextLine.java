package io.knowngood.node.logs;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * kgnode's text line, exactly as slf4j-simple wrote it before logback (tests, docs and operators
 * match it): {@code 2026-12-01T16:00:00.123Z [main] INFO Node - message}, local time zone, the
 * logger's last name segment, then a stack trace as {@link Throwable#printStackTrace()} writes it.
 * Written by hand rather than with a PatternLayout: the pattern machinery loads some 200 classes
 * (~40 ms measured) before the node's first line.
 */
final class TextLine extends LayoutBase<ILoggingEvent> {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSX").withZone(ZoneId.systemDefault());

    @Override
    public String doLayout(ILoggingEvent event) {
        String logger = event.getLoggerName();
        StringBuilder line = new StringBuilder(128);
        TIME.formatTo(event.getInstant(), line);
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
}
