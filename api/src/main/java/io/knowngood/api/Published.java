package io.knowngood.api;

import java.util.Objects;

/**
 * Admin {@code PUT /v1/bundles/{name}}, 201: the version stored and how far replication got.
 *
 * @param digest the manifest digest (the bundle's ETag)
 * @param membersHolding members of the current view that hold it now, this node included
 * @param complete every member in view holds it
 */
public record Published(String name, long version, String digest, int membersHolding, int membersInView, boolean complete) {
    public Published {
        Objects.requireNonNull(name, "name");
    }
}
