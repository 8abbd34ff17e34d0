package io.knowngood.api;

/** The response headers the contract adds to HTTP's own. */
public final class HeaderNames {

    /** On every VM endpoint response: {@code true} while the node is clustered and not partitioned. */
    public static final String IN_TOUCH = "X-Knowngood-In-Touch";

    /** On every VM endpoint response: when the node last heard from a peer, ISO-8601, or {@code never}. */
    public static final String LAST_CONTACT = "X-Knowngood-Last-Contact";

    /** The version a bundle response (or a retired bundle's 404, or an admin manifest) is about. */
    public static final String VERSION = "X-Knowngood-Version";

    /** On every bundle response: {@code good}, {@code rolling} or {@code fallback} (a newer version is held but is not for this host, or was reverted). */
    public static final String STATE = "X-Knowngood-State";

    /** On every bundle response: the highest version of the name held here (served or not). */
    public static final String LATEST = "X-Knowngood-Latest";

    /** On bundle responses whose version's manifest {@code expires} has passed: {@code true}. Still served: expiry is never a hard failure. */
    public static final String EXPIRED = "X-Knowngood-Expired";

    private HeaderNames() {}
}
