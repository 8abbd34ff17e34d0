package io.knowngood.api;

import java.util.Objects;

/**
 * A name held below its rollback floor, in both health bodies. {@code held} 0: no copy at all.
 * {@code serving}: the newer copy was found damaged, or is signed only by a publisher key the node no
 * longer trusts, and this one is served as last-known-good;
 * false: the newer copy is missing and the name is withheld until a peer supplies it.
 */
public record BehindFloor(String name, long held, long floor, boolean serving) {
    public BehindFloor {
        Objects.requireNonNull(name, "name");
    }
}
