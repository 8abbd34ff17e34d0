package io.knowngood.api;

import java.util.List;
import java.util.Objects;

/** VM endpoint {@code GET /v1/bundles}: the names served here and their versions (retired ones are not listed). */
public record VmBundleList(List<Entry> bundles) {

    public VmBundleList {
        bundles = bundles == null ? List.of() : List.copyOf(bundles);
    }

    /** One served name. */
    public record Entry(String name, long version) {
        public Entry {
            Objects.requireNonNull(name, "name");
        }
    }
}
