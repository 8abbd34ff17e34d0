package io.knowngood.api;

import java.util.Locale;
import java.util.Optional;

/**
 * Every {@code error} code a node sends in an {@link ErrorBody}. The wire form is the lower-case
 * name ({@link #wire()}). The verifier's rejection codes are here too (a publish refused as
 * invalid carries the rejection's code); node's tests prove every one of them maps to a constant.
 */
public enum ErrorCode {
    // request checks, both endpoints
    /** Request target longer than {@code max-uri-bytes} (414). */
    URI_TOO_LONG,
    /** Request head larger than {@code max-header-bytes} (431). */
    HEADER_TOO_LARGE,
    /** Not an origin-form target such as {@code /path} (400). */
    BAD_REQUEST_TARGET,
    /** Method not allowed on this endpoint or route (405, with {@code Allow}). */
    METHOD_NOT_ALLOWED,
    /** A request to the VM endpoint carried a body (413). */
    BODY_NOT_ALLOWED,
    /** The path was refused (400), or a path inside an archive was (422, a verifier rejection). */
    BAD_PATH,
    /** A query parameter out of its form, e.g. {@code wait} or {@code after} not a whole number, or more than 16 of them (400). */
    BAD_QUERY,
    /** No such route (404). */
    NOT_FOUND,
    /** Missing or wrong bearer token on the admin endpoint (401). */
    UNAUTHORIZED,
    /** A valid admin token without the scope the request needs, e.g. a {@code read} token that publishes (403). */
    FORBIDDEN,

    // bundles
    /** Not a bundle name (400), or a manifest names none (422). */
    BAD_NAME,
    /** This node holds no bundle of that name (404). */
    NO_SUCH_BUNDLE,
    /** The bundle has no such file (404). */
    NO_SUCH_FILE,
    /** The bundle was withdrawn; {@code X-Knowngood-Version} names the tombstone (404). */
    RETIRED,
    /** The copy held is below the rollback floor and withheld until a peer supplies a newer one (503). */
    BEHIND_FLOOR,
    /** Every version of the bundle held here was reverted by its rollout (404). */
    ALL_REVERTED,

    // reports and rollout controls
    /** A VM report that is not the documented JSON (400). */
    BAD_REPORT,
    /** A report names a version this node does not hold (404). */
    NO_SUCH_VERSION,
    /** Too many reports from one VM address (429, with {@code Retry-After}). */
    TOO_MANY_REPORTS,
    /** A rollout control that is not validly signed by a trusted key (422). */
    BAD_CONTROL,
    /** A pause, resume or promote for a version that is reverted, which is final (409). */
    VERSION_REVERTED,

    // publish
    /** The very bundle offered is already held (409). */
    ALREADY_HELD,
    /** Not newer than the highest version ever accepted (409, with {@code current} and {@code offered}). */
    ROLLBACK,
    /** Body, bundle, file or file count over a limit (413). */
    TOO_LARGE,
    /** Holding the bundle would pass {@code max-held-bytes} (507). */
    OVER_BUDGET,
    /** The store could not read or write durably (503). */
    STORE_UNAVAILABLE,

    // the verifier's other rejection codes (422)
    MALFORMED_ARCHIVE,
    TOO_MANY_FILES,
    UNEXPECTED_ENTRY,
    MISSING_ENTRY,
    FORBIDDEN_ENTRY_TYPE,
    MALFORMED_JSON,
    DUPLICATE_KEY,
    UNKNOWN_SCHEMA,
    INVALID_MANIFEST,
    NAME_MISMATCH,
    SIZE_MISMATCH,
    HASH_MISMATCH,
    MALFORMED_SIGNATURE,
    UNTRUSTED_KEY,
    BAD_SIGNATURE;

    private final String wire = name().toLowerCase(Locale.ROOT);

    /** The code as it appears in {@code "error"}. */
    public String wire() {
        return wire;
    }

    /** The constant for a wire code; empty for a code this version does not know (a newer node). */
    public static Optional<ErrorCode> fromWire(String code) {
        for (ErrorCode c : values()) {
            if (c.wire.equals(code)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }
}
