package io.knowngood.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Objects;

/**
 * A name held below its rollback floor, in both health bodies. {@code held} 0: no copy at all.
 * {@code serving}: the newer copy was found damaged, or is signed only by a publisher key the node no
 * longer trusts, and this one is served as last-known-good;
 * false: the newer copy is missing and the name is withheld until a peer supplies it.
 * {@code cause}: why the floor version is not served, {@code damaged}, {@code not_loadable} (on disk,
 * but this node's configuration cannot load it: an untrusted key, smaller limits) or {@code missing};
 * null, and left out of the JSON, from a node older than this field.
 */
public record BehindFloor(String name, long held, long floor, boolean serving,
                          @JsonInclude(JsonInclude.Include.NON_NULL) String cause) {
    public static final String DAMAGED = "damaged";
    public static final String NOT_LOADABLE = "not_loadable";
    public static final String MISSING = "missing";

    public BehindFloor {
        Objects.requireNonNull(name, "name");
    }

    /** Without a cause (a node older than it). */
    public BehindFloor(String name, long held, long floor, boolean serving) {
        this(name, held, floor, serving, null);
    }
}
