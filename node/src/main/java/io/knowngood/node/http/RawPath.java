package io.knowngood.node.http;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * Strict parsing of a raw (still percent-encoded) request path into segments. Undertow's own URL
 * decoding is off, so this is the one place a path is decoded, once. Refused: characters outside
 * RFC 3986 pchar, empty segments, {@code .} and {@code ..} (raw or encoded), malformed or overlong
 * UTF-8, and any decoded slash, backslash, NUL or control character.
 */
final class RawPath {

    /** Either the decoded segments or the reason they were refused. */
    record Parsed(List<String> segments, Optional<String> refusal) {
        static Parsed ok(String[] segments) {
            // a fixed-size read-only view of an array no one else holds: no copy per request
            return new Parsed(Collections.unmodifiableList(Arrays.asList(segments)), Optional.empty());
        }

        static Parsed refused(String why) {
            return new Parsed(List.of(), Optional.of(why));
        }

        boolean isRefused() {
            return refusal.isPresent();
        }
    }

    private static final Parsed ROOT = new Parsed(List.of(), Optional.empty());

    /**
     * Segments every route has, returned as these constants instead of a new string per request (a
     * VM endpoint answers tens of thousands of requests a second; the raw text equals the decoded one).
     */
    private static final String[] COMMON = {"v1", "bundles", "files", "manifest.json", "signatures.json", "health", "reports"};

    private RawPath() {}

    static Parsed parse(String raw) {
        if (raw == null || raw.isEmpty() || raw.charAt(0) != '/') {
            return Parsed.refused("path must start with /");
        }
        if (raw.length() == 1) {
            return ROOT;
        }
        int count = 1;
        for (int i = 1; i < raw.length(); i++) {
            if (raw.charAt(i) == '/') {
                count++;
            }
        }
        String[] segments = new String[count];
        int n = 0;
        int start = 1;
        while (start <= raw.length()) {
            int slash = raw.indexOf('/', start);
            int end = slash < 0 ? raw.length() : slash;
            if (end == start) {
                return Parsed.refused("empty path segment");
            }
            String seg = common(raw, start, end);
            if (seg == null) {
                Optional<String> decoded = decode(raw.substring(start, end));
                if (decoded.isEmpty()) {
                    return Parsed.refused("malformed path segment");
                }
                seg = decoded.get();
                if (seg.equals(".") || seg.equals("..")) {
                    return Parsed.refused("dot segments are not allowed");
                }
                for (int i = 0; i < seg.length(); i++) {
                    char c = seg.charAt(i);
                    if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) {
                        return Parsed.refused("forbidden character in path segment");
                    }
                }
            }
            segments[n++] = seg;
            if (slash < 0) {
                break;
            }
            start = slash + 1;
        }
        return Parsed.ok(segments);
    }

    /** The constant for {@code raw[start, end)} when it is one of {@link #COMMON}, else null. */
    private static String common(String raw, int start, int end) {
        int len = end - start;
        for (String c : COMMON) {
            if (c.length() == len && raw.regionMatches(start, c, 0, len)) {
                return c;
            }
        }
        return null;
    }

    private static Optional<String> decode(String s) {
        // The common case, plain ASCII pchars and no escapes, decodes to itself: no buffer, no decoder.
        boolean plain = true;
        for (int i = 0; i < s.length() && plain; i++) {
            plain = isPchar(s.charAt(i));
        }
        if (plain) {
            return Optional.of(s);
        }
        ByteBuffer bytes = ByteBuffer.allocate(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    return Optional.empty();
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return Optional.empty();
                }
                bytes.put((byte) (hi * 16 + lo));
                i += 2;
            } else if (isPchar(c)) {
                bytes.put((byte) c);
            } else {
                return Optional.empty();
            }
        }
        bytes.flip();
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes);
            return Optional.of(chars.toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }

    /** RFC 3986 pchar without pct-encoded: unreserved, sub-delims, ':' and '@'. */
    private static boolean isPchar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || switch (c) {
                    case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@' -> true;
                    default -> false;
                };
    }
}
