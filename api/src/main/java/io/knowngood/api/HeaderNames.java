package io.knowngood.api;

/** The response headers the contract adds to HTTP's own. */
public final class HeaderNames {

    /** On every VM endpoint response: {@code true} while the node is clustered and not partitioned. */
    public static final String IN_TOUCH = "X-Knowngood-In-Touch";

    /** On every VM endpoint response: when the node last heard from a peer, ISO-8601, or {@code never}. */
    public static final String LAST_CONTACT = "X-Knowngood-Last-Contact";

    /** The version a bundle response (or a retired bundle's 404, or an admin manifest) is about. */
    public static final String VERSION = "X-Knowngood-Version";

    private HeaderNames() {}
}
