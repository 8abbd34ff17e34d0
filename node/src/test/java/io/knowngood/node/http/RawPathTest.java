package io.knowngood.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class RawPathTest {

    @Test
    void routesSegments_areDecodedOnce_andTheCommonOnesAreConstants() {
        RawPath.Parsed p = RawPath.parse("/v1/bundles/vpn/files/etc/wg%2D0.conf");
        assertEquals(List.of("v1", "bundles", "vpn", "files", "etc", "wg-0.conf"), p.segments());
        assertEquals(Optional.empty(), p.refusal());
        assertSame("v1", p.segments().get(0));
        assertSame("bundles", p.segments().get(1));
        assertSame("files", p.segments().get(3));
        assertEquals(List.of(), RawPath.parse("/").segments());
        assertFalse(RawPath.parse("/").isRefused());
    }

    @Test
    void aCommonWordInsideALongerSegment_isNotMistakenForIt() {
        assertEquals(List.of("v1x", "bundlesfiles", "files2"), RawPath.parse("/v1x/bundlesfiles/files2").segments());
        assertEquals(List.of("health"), RawPath.parse("/health").segments());
    }

    @Test
    void theSegments_cannotBeChangedByACaller() {
        List<String> seg = RawPath.parse("/v1/bundles/vpn").segments();
        assertThrows(UnsupportedOperationException.class, () -> seg.set(0, "v2"));
        assertThrows(UnsupportedOperationException.class, () -> seg.add("x"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "''                        | path must start with /",
        "v1/bundles                | path must start with /",
        "/v1//bundles              | empty path segment",
        "/v1/bundles/              | empty path segment",
        "/v1/bundles/..            | dot segments are not allowed",
        "/v1/bundles/%2e%2E        | dot segments are not allowed",
        "/v1/bundles/a%2Fb         | forbidden character in path segment",
        "/v1/bundles/a%5Cb         | forbidden character in path segment",
        "/v1/bundles/a%00b         | forbidden character in path segment",
        "/v1/bundles/a%7F          | forbidden character in path segment",
        "/v1/bundles/a%2           | malformed path segment",
        "/v1/bundles/a%zz          | malformed path segment",
        "/v1/bundles/%C0%AF        | malformed path segment",
        "/v1/bundles/a b           | malformed path segment",
        "/v1/bundles/a\"b          | malformed path segment",
    })
    void badPaths_areRefusedWithTheReason(String raw, String why) {
        RawPath.Parsed p = RawPath.parse(raw);
        assertTrue(p.isRefused(), raw);
        assertEquals(Optional.of(why), p.refusal());
        assertEquals(List.of(), p.segments());
    }

    @Test
    void utf8_isDecoded_andKeptAsText() {
        assertEquals(List.of("v1", "bundles", "caf\u00e9"), RawPath.parse("/v1/bundles/caf%C3%A9").segments());
    }
}
